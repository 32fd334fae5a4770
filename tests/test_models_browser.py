"""Models as input in a real browser (issue 27): upload a .keras file and a zipped SavedModel
on the Inspect page, and see each one's matrix."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import expect

from tests.test_browser import shot
from tests.test_models import _MAKE, SECRET, _python

pytestmark = [pytest.mark.browser, pytest.mark.worker]


def test_a_keras_file_and_a_zipped_saved_model_upload_and_show_their_matrix(
        server, browser, tmp_path):
    SECRET.write_text("the server's secret")
    _python(_MAKE, str(tmp_path), str(SECRET))
    shutil.make_archive(str(tmp_path / "small_saved"), "zip", tmp_path / "small_saved")
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/?entry=model&mode=numpy&mode=spec")
    for name, function in (("small.keras", "call_model"),
                           ("small_saved.zip", "serving_default")):
        page.locator("input[type=file]").set_input_files(str(tmp_path / name))
        page.get_by_text(f"{name} (sha256").first.wait_for(timeout=60_000)
        calls = page.get_by_role("textbox", name="Calls, one per line")
        # The model's own input (the box is drawn after the caption, in the same run: a
        # loaded machine showed the caption while the box still held the page's first value).
        expect(calls).to_have_value("float32[1,8,8,3]", timeout=30_000)
        page.get_by_role("button", name="Inspect").click()
        page.get_by_text(f"{function} from {name} (sha256").first.wait_for(timeout=180_000)
        page.get_by_text("TensorFlow ").first.wait_for()
        matrix = page.locator("[data-testid=stMarkdown] table").first
        matrix.wait_for(timeout=60_000)
        for mode in ("numpy", "spec"):
            assert mode in matrix.inner_text()
        shot(page, f"model-{name.split('.')[0]}")
    # A file that cannot load: its error once, under the box, and Inspect off until another
    # upload (a walk saw the same error again below Inspect after clicking it).
    (tmp_path / "cut.keras").write_bytes((tmp_path / "small.keras").read_bytes()[:300])
    page.locator("input[type=file]").set_input_files(str(tmp_path / "cut.keras"))
    error = page.locator("[data-testid=stAlertContentError]").filter(has_text="cut.keras")
    expect(error).to_have_count(1, timeout=60_000)
    expect(error.first).to_contain_text("ModelLoadError")
    expect(page.get_by_role("button", name="Inspect")).to_be_disabled()
    page.locator("input[type=file]").set_input_files(str(tmp_path / "small.keras"))
    expect(page.get_by_role("button", name="Inspect")).to_be_enabled(timeout=60_000)
    expect(error).to_have_count(0)
    page.close()
    assert not errors

"""The Inspect form's URL: every field survives settings -> URL -> settings."""

from __future__ import annotations

import dataclasses

from inspector.ui.permalink import FormSettings, from_query, to_query

# A value for every field that differs from a fresh form's.
CHANGED = FormSettings(entry="resnet50", modes=("spec", "xla"), calls=("float32[1,224,224,3]",),
                       device="/device:CPU:0", runs=7, grappler=("constant_folding=off",
                                                                  "remapping=off"),
                       ablate=True, passes=False, time_limit=120, memory_mb=8192,
                       versions=("2.21.0", "2.20.0"))


def as_lists(query: dict) -> dict[str, list[str]]:
    """What a URL gives back: each key's values as a list."""
    return {k: v if isinstance(v, list) else [v] for k, v in query.items()}


def test_every_field_survives_the_round_trip():
    for field in dataclasses.fields(FormSettings):
        assert getattr(CHANGED, field.name) != getattr(FormSettings(), field.name), field.name
    assert from_query(as_lists(to_query(CHANGED))) == CHANGED
    # Each field alone, so one field's key cannot carry another's value.
    for field in dataclasses.fields(FormSettings):
        one = dataclasses.replace(FormSettings(), **{field.name: getattr(CHANGED, field.name)})
        assert from_query(as_lists(to_query(one))) == one, field.name


def test_defaults_stay_out_of_the_link_and_links_made_before_still_open():
    assert to_query(FormSettings()) == {}
    # A link from before Advanced settings were kept: entry, mode and call only.
    old = from_query({"entry": ["process_data"], "mode": ["numpy", "spec"],
                      "call": ["float32[4]"]})
    assert old == FormSettings(entry="process_data", modes=("numpy", "spec"),
                               calls=("float32[4]",))


def test_a_value_that_does_not_parse_keeps_the_default():
    settings = from_query({"runs": ["many"], "ablate": ["yes"], "memory_mb": ["1e9"],
                           "entry": ["process_data"]})
    assert settings == FormSettings(entry="process_data")


def test_a_saved_run_comes_back_into_the_form_as_it_was_asked():
    """Edit as new and Re-run: the request as saved, the form's settings, and the same link."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import Source, read_source
    from inspector.ui.permalink import PASTE, from_saved

    request = prepare(read_source("gallery:shape_folding"), modes=["spec", "numpy"],
                      grappler=["remapping=off", "constant_folding=off"], runs=7, ablate=True,
                      passes=False, device="CPU:0")
    form = from_saved(request.to_dict(), {"timeout_s": 90.0, "memory_mb": 2048})
    assert form == FormSettings(entry="shape_folding", modes=request.modes,
                                calls=request.calls, device="CPU:0", runs=7,
                                grappler=("constant_folding=off", "remapping=off"), ablate=True,
                                passes=False, time_limit=90, memory_mb=2048)
    assert from_query(as_lists(to_query(form))) == form
    pasted = prepare(Source("def f(x):\n    return x\n", "pasted.py"), calls=["float32[2]"],
                     modes=["spec"])
    assert from_saved(pasted.to_dict(), {}).entry == PASTE
    assert from_saved(pasted.to_dict(), {}).runs == 0  # "as many as fit"
    # A run on several TensorFlow versions comes back on them; one version is no choice.
    assert from_saved(pasted.to_dict(), {}, versions=("2.21.0", "2.20.0")).versions == (
        "2.21.0", "2.20.0")
    assert from_saved(pasted.to_dict(), {}, versions=("2.21.0",)).versions == ()

"""Finding the function and reporting source problems, before anything runs."""

import pytest

from inspector.errors import FunctionNotFound, SourceError
from inspector.inputs import gallery, sources
from inspector.inputs.sources import Source, find_function, read_source


def test_single_function_is_found_without_a_name():
    info = find_function(Source("import x\n\ndef f(a, b=1):\n    return a\n", "s.py"), None)
    assert (info.name, info.params, info.required, info.line) == ("f", ("a", "b"), 1, 3)


def test_several_functions_need_a_name_and_are_listed():
    with pytest.raises(FunctionNotFound, match="2 top-level functions .f, g.; choose one"):
        find_function(Source("def f(): pass\ndef g(): pass\n", "s.py"), None)


def test_missing_and_non_callable_names():
    source = Source("def f(x): pass\nscale = 3\n", "s.py")
    with pytest.raises(FunctionNotFound, match="'h' is not defined; top-level functions: f"):
        find_function(source, "h")
    with pytest.raises(FunctionNotFound, match="'scale' is assigned, not defined with def"):
        find_function(source, "scale")


def test_nothing_on_stdin_says_so_not_which_function_to_choose():
    with pytest.raises(SourceError, match="nothing came on stdin"):
        read_source("-", stdin_text="\n  \n")


def test_syntax_error_names_the_line():
    with pytest.raises(SourceError) as caught:
        find_function(Source("def f(x):\n    return x +\n", "s.py"), None)
    assert caught.value.line == 2
    assert "line 2" in caught.value.message


def test_gallery_sources_parse_and_name_their_function():
    for entry in gallery.ENTRIES:
        source = read_source(f"gallery:{entry.name}")
        assert find_function(source, entry.function).name == entry.function
        assert entry.hint.endswith("?")


def test_seed_examples_are_in_the_gallery_verbatim():
    from tests.helpers import ROOT

    seed_files = list((ROOT.parent / "shared" / "seed").glob("*.txt"))
    if not seed_files:
        pytest.skip("the seed article is not beside this checkout")
    article = seed_files[0].read_text()
    blocks = article.split("```python\n")[1:]
    texts = [block.split("```")[0] for block in blocks]
    assert len(texts) == 3
    for name, text in zip(("process_data", "process_data_spec", "process_variable_data"), texts,
                          strict=True):
        assert gallery.get(name).source == text


def test_provided_files_are_only_the_folders_own_py_files(tmp_path):
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    (tmp_path / "b.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.py").write_text("def g(x):\n    return x\n")
    assert sources.provided_names(str(tmp_path)) == ("a.py",)
    assert sources.provided_names(None) == ()
    source = sources.provided_source(str(tmp_path), "a.py")
    assert (source.provided_name, source.filename) == ("a.py", "a.py")
    for name in ("sub/c.py", "../a.py", "b.txt"):
        with pytest.raises(SourceError, match="the operator offers: a.py"):
            sources.provided_source(str(tmp_path), name)


def test_an_error_message_holding_a_python_stack_names_no_server_path(tmp_path):
    """TensorFlow's XLA errors carry a Python stack in their message: the server's paths
    (the checkout, the job's folder) showed in the red box of a team's run (found in a walk);
    they read as names, as in the traceback."""
    import tempfile

    from inspector.engine.loader import user_code_error
    from tests.helpers import ROOT

    code = tmp_path / "pasted.py"
    try:
        raise RuntimeError(f'compile failed\n  File "{ROOT}/inspector/jobs/worker.py", line 9\n'
                           f'  File "{code}", line 3\n  in {tempfile.gettempdir()}/x')
    except RuntimeError as exc:
        error = user_code_error(exc, str(code), "tracing")
    assert str(ROOT) not in error.message and str(tmp_path) not in error.message
    assert "<inspector>/inspector/jobs/worker.py" in error.message
    assert "<your code>/pasted.py" in error.message and "<tmp>/x" in error.message

"""Call specs, modes and Grappler overrides are parsed without TensorFlow."""

import pytest

from inspector.errors import CallSpecError, UsageError
from inspector.inputs.calls import PythonArg, TensorArg, check_arity, parse_call, parse_calls
from inspector.inputs.grappler import parse_overrides
from inspector.inputs.modes import CODE_MODES, MODES, parse_modes


def test_parses_tensors_scalars_and_python_values():
    call = parse_call("float32[2,3]; int32[] ;2.5; True")
    assert call.args == (TensorArg("float32", (2, 3)), TensorArg("int32", ()), PythonArg(2.5),
                         PythonArg(True))
    assert str(call) == "float32[2,3]; int32[]; 2.5; True"


@pytest.mark.parametrize("text, fragment", [
    ("float33[4]", "unknown dtype 'float33'"),
    ("float32[4,]", "empty dimension"),
    ("float32(4)", "cannot read argument"),
    ("float32[a]", "cannot read argument"),
])
def test_bad_specs_name_the_problem_and_the_forms(text, fragment):
    with pytest.raises(CallSpecError) as caught:
        parse_calls([text])
    assert fragment in caught.value.message
    assert "call 1" in caught.value.message


def test_arity_is_checked_against_the_parameters():
    with pytest.raises(CallSpecError, match="has 1 argument.*takes 2 .x, y."):
        check_arity(parse_calls(["float32[4]"]), ("x", "y"), 2, False)
    check_arity(parse_calls(["float32[4]"]), ("x", "y"), 1, False)  # y has a default


def test_modes_expand_all_in_canonical_order_and_reject_unknown():
    assert parse_modes(["all"]) == CODE_MODES  # "saved" is a SavedModel signature's alone
    assert parse_modes(["all"], saved=True) == MODES
    assert parse_modes(["spec", "numpy", "spec"]) == ("numpy", "spec")
    assert parse_modes([]) == CODE_MODES
    with pytest.raises(UsageError, match="unknown mode 'fast'.*spec-dynamic"):
        parse_modes(["fast"])


def test_grappler_overrides_are_validated():
    assert parse_overrides(["constant_folding=off", "min_graph_nodes=-1"]) == {
        "constant_folding": False, "min_graph_nodes": -1}
    with pytest.raises(UsageError, match="constant_folding"):
        parse_overrides(["constant_foldin=off"])
    with pytest.raises(UsageError, match="no '='"):
        parse_overrides(["remapping"])


def test_grappler_overrides_read_back_as_written():
    from inspector.inputs.grappler import format_overrides, parse_overrides

    options = parse_overrides(["constant_folding=off", "remapping=ON", "min_graph_nodes=-1",
                               "disable_model_pruning=true"])
    assert format_overrides(options) == ["constant_folding=off", "disable_model_pruning=on",
                                         "min_graph_nodes=-1", "remapping=on"]
    assert parse_overrides(format_overrides(options)) == options

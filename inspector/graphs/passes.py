"""The graph after every Grappler pass, from TensorFlow's own dumps, compared pass by pass; each
change of a mode's diff attributed to the pass that made it. Text and protos only (no TF run).

TensorFlow writes the dumps (``TF_DUMP_GRAPH_PREFIX`` with ``meta_optimizer=4``) as protobuf
text, 1-2 MB a file on ResNet50 and about 30 files a call. Parsing them whole with protobuf's
text parser takes ~1 s a file, so a dump is split into its top-level ``node { }`` blocks and
only a node's name, op and inputs are read from its block's first lines. The blocks of the
nodes a pass added, re-typed or rewired are kept as text and parsed into NodeDefs only when a
picture of that pass is drawn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from inspector.graphs.protos import GraphDef, parse, parse_text
from inspector.report import (
    AFTER_GRAPPLER,
    BEFORE_GRAPPLER,
    Attribution,
    GraphDiff,
    ModeResult,
    PassChange,
)

# A dump's name: before_/after_MetaOptimizer[_iteration_<i>[_<optimizer>]]_<id>[_<n>].pbtxt,
# <id> a per-process number (not the function's name), _<n> added by a repeat of the name.
_WHOLE = re.compile(r"(before|after)_MetaOptimizer(?:_iteration_(\d+))?_\d{6,}(?:_\d+)?\.pbtxt$")
_PASS = re.compile(r"after_MetaOptimizer_iteration_(\d+)_(.+?)_\d{6,}(?:_\d+)?\.pbtxt$")
# The log lines that tie dumps to the Grappler item (function) being optimized.
_ITEM = re.compile(r"Optimize GrapplerItem: item\.id=(\S+) num_optimizers=(\d+)")
_DUMPED = re.compile(r"Dumped Graph to (\S+\.pbtxt)")
# A top-level message ends with "}" alone on a line; a node block starts with its name and op.
_TOP_LEVEL_END = re.compile(r"(?m)^}\n")
_HEAD = re.compile(r'node \{\n  name: "((?:[^"\\]|\\.)*)"\n  op: "((?:[^"\\]|\\.)*)"\n'
                   r'((?:  input: "(?:[^"\\]|\\.)*"\n)*)')
_SKIPPED = re.compile(r"Skipping optimization, (graph has less than \d+ nodes)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Dump:
    """One graph TensorFlow wrote during a call, in write order."""

    # The Grappler item (function) it belongs to, e.g. "__inference_f_29".
    item: str
    # 1 for the item's first Grappler run in the call, 2 for a second one, ...
    run: int
    # 1-based meta-optimizer iteration (as ``grappler_passes`` counts); None for the files
    # written before and after all iterations.
    iteration: int | None
    # The pass that produced the graph; None for the before/after-iteration files.
    optimizer: str | None
    path: str


@dataclass(frozen=True)
class _Node:
    op: str
    inputs: tuple[str, ...]
    # The node's whole text block: any change to it (attrs included) shows here.
    block: str


def dumps_in_log(log: str) -> list[Dump]:
    """The dumps a call wrote, in order, each tied to the item whose optimization wrote it."""
    dumps: list[Dump] = []
    runs: dict[str, int] = {}
    item = None
    for line in log.splitlines():
        started = _ITEM.search(line)
        if started:
            item = started.group(1)
            runs[item] = runs.get(item, 0) + 1
            continue
        dumped = _DUMPED.search(line)
        if not dumped or item is None:
            continue
        path = dumped.group(1)
        name = path.rsplit("/", 1)[-1]
        whole = _WHOLE.match(name)
        if whole:
            iteration = int(whole.group(2)) + 1 if whole.group(2) is not None else None
            dumps.append(Dump(item, runs[item], iteration, None, path))
            continue
        one_pass = _PASS.match(name)
        if one_pass:
            dumps.append(Dump(item, runs[item], int(one_pass.group(1)) + 1, one_pass.group(2),
                              path))
    return dumps


def _unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape") \
        if "\\" in text else text


def nodes_of(text: str, seen: dict[str, tuple[str, _Node] | None] | None = None
             ) -> dict[str, _Node]:
    """Each node of a dumped GraphDef text by name: its op, inputs and text block. ``seen``:
    blocks already read (a pass's dump repeats most of the previous one's nodes word for word:
    ResNet50's 34 dumps held 17,559 node blocks, read once each they cost 0.3 s)."""
    seen = {} if seen is None else seen
    nodes = {}
    for block in _TOP_LEVEL_END.split(text):
        if block not in seen:
            seen[block] = _read_block(block)
        read = seen[block]
        if read is not None:  # None: library { }, versions { }
            nodes[read[0]] = read[1]
    return nodes


def _read_block(block: str) -> tuple[str, _Node] | None:
    head = _HEAD.match(block)
    if head is None:
        return None
    return _unescape(head.group(1)), _Node(
        _unescape(head.group(2)), tuple(_unescape(q) for q in _QUOTED.findall(head.group(3))),
        block)


@dataclass(frozen=True)
class ComparedPasses:
    """Every pass of the captured function, and the nodes each one made or changed."""

    passes: tuple[PassChange, ...]
    # Per pass (same order): the nodes it added, re-typed or rewired, as GraphDef text.
    deltas: tuple[str, ...]
    # Why there are no passes when Grappler said (e.g. "graph has less than 4 nodes").
    skipped: str | None = None


def compare_passes(dumps: Sequence[Dump], item: str, read: Callable[[str], str],
                   pre: GraphDef | None = None) -> ComparedPasses:
    """Walk the item's dumps in order: each pass's graph against the graph before it.

    Only per-pass dumps become entries; the before/after-iteration files set the baseline, so a
    change made between passes (none seen so far) is not pinned on a pass. Most passes change
    nothing and TensorFlow then writes the same text, which is compared whole first. With the
    ``pre`` graph (what run metadata calls pre-optimization), what the runtime changed before
    Grappler saw the graph (it inlines nested function calls) comes first, as a BEFORE_GRAPPLER
    entry, when it changed anything.
    """
    passes: list[PassChange] = []
    deltas: list[str] = []
    previous_text, previous = "", None
    seen: dict[str, tuple[str, _Node] | None] = {}
    if pre is not None:
        previous = {n.name: _Node(n.op, tuple(n.input), "") for n in pre.node}
    for dump in (d for d in dumps if d.item == item):
        text = read(dump.path)
        current = previous if text == previous_text and previous is not None \
            else nodes_of(text, seen)
        if previous is not None and not previous_text and dump.optimizer is None:
            change, delta = _one_pass(previous, current, Dump(item, 0, 0, BEFORE_GRAPPLER, ""))
            if change.changed:
                passes.append(change)
                deltas.append(delta)
        elif dump.optimizer is not None and previous is not None and dump.iteration is not None:
            change, delta = _one_pass(previous, current, dump)
            passes.append(change)
            deltas.append(delta)
        previous_text, previous = text, current
    return ComparedPasses(tuple(passes), tuple(deltas))


def grappler_input(pre: GraphDef, compared: ComparedPasses) -> GraphDef | None:
    """The graph Grappler was given, when the runtime changed the pre-optimization graph
    first (it inlines the functions a graph calls: a SavedModel's signature call becomes its
    layers' nodes, named "<call>/<node>" as Grappler's own inliner names them): names, ops and
    inputs only, read from the BEFORE_GRAPPLER entry. None when the runtime changed nothing."""
    if not compared.passes or compared.passes[0].optimizer != BEFORE_GRAPPLER:
        return None
    nodes = {n.name: (n.op, tuple(n.input)) for n in pre.node}
    for name in compared.passes[0].removed:
        nodes.pop(name, None)
    for name, node in nodes_of(compared.deltas[0]).items():
        nodes[name] = (node.op, node.inputs)
    graph = parse_text("")
    for name, (op, inputs) in nodes.items():
        graph.node.add(name=name, op=op, input=inputs)
    return graph


def skipped_reason(log: str) -> str | None:
    """Grappler's own words when it left a graph alone ("graph has less than 4 nodes")."""
    found = _SKIPPED.search(log)
    return found.group(1) if found else None


def _one_pass(before: dict[str, _Node], after: dict[str, _Node],
              dump: Dump) -> tuple[PassChange, str]:
    if after is before:
        both: list[str] = []
        added: tuple[str, ...] = ()
        removed: tuple[str, ...] = ()
    else:
        both = [n for n in after if n in before and after[n].block != before[n].block]
        added = tuple(n for n in after if n not in before)
        removed = tuple(n for n in before if n not in after)
    op_changed = tuple(n for n in both if after[n].op != before[n].op)
    rewired = tuple(n for n in both if after[n].inputs != before[n].inputs)
    delta = "".join(after[name].block + "}\n"
                    for name in dict.fromkeys((*added, *op_changed, *rewired)))
    change = PassChange(
        iteration=dump.iteration or 0, optimizer=dump.optimizer or "", nodes=len(after),
        edges=sum(len(n.inputs) for n in after.values()), removed=removed, added=added,
        op_changed=op_changed, rewired=rewired, run=dump.run)
    return change, delta


def pack_deltas(deltas: Sequence[str]) -> bytes:
    """Every pass's changed nodes (GraphDef text each) as one blob for the report's graphs."""
    return json.dumps(list(deltas)).encode("utf-8")


def unpack_deltas(data: bytes) -> tuple[str, ...]:
    return tuple(json.loads(data.decode("utf-8")))


def graphs_after_each(pre: GraphDef, passes: Sequence[PassChange],
                      deltas: Sequence[str]) -> Iterator[GraphDef]:
    """The graph after each pass in turn, rebuilt from the pre-Grappler graph and the passes'
    changes (attribute-only changes are not kept: pictures do not show them)."""
    nodes = {n.name: n for n in pre.node}
    for change, delta in zip(passes, deltas, strict=True):
        for name in change.removed:
            nodes.pop(name, None)
        if delta:
            for node in parse_text(delta).node:
                nodes[node.name] = node
        graph = parse_text("")
        graph.node.extend(nodes.values())
        yield graph


def pass_graphs(result: ModeResult) -> tuple[GraphDef, ...] | None:
    """The graph after each pass of a mode whose report carries its graphs and passes."""
    if not result.passes or not result.graphs or "passes" not in result.graphs:
        return None
    return tuple(graphs_after_each(parse(result.graphs["pre"]), result.passes,
                                   unpack_deltas(result.graphs["passes"])))


def pass_file_label(index: int, change: PassChange) -> str:
    """``pass07-round1-constant_folding`` (``-run2`` for a later Grappler run): file names and
    picture titles; the MLIR pipeline's long option list is cut at its brace."""
    run = f"-run{change.run}" if change.run > 1 else ""
    return f"pass{index + 1:02d}-round{change.iteration}{run}-{change.optimizer.split('{', 1)[0]}"


def _names_in(diff: GraphDiff) -> Iterable[tuple[str, str]]:
    """(node, kind) for every node the diff names; kind decides what "final state" means."""
    for name in diff.removed:
        yield name, "removed"
    for name in diff.added:
        yield name, "present"
    for name in diff.folded:
        yield name, "present"
    for fused in diff.fused:
        yield fused.name, "present"
    for change in diff.op_changed:
        yield change.name, "present"
    for rewire in diff.rewired:
        yield rewire.name, "rewired"


def attribute(diff: GraphDiff, passes: Sequence[PassChange], deltas: Sequence[str],
              pre: GraphDef, post: GraphDef) -> dict[str, Attribution]:
    """For every node the diff names, the first pass after which it is in its final state: gone
    (removed); there with its final op (added, folded, fused, op-changed); with its final inputs
    (rewired). A node that reached that state, left it and came back is attributed to the pass
    that brought it back. A node not in its final state after the last pass is attributed to
    AFTER_GRAPPLER (iteration 0, run 0).
    """
    kinds = dict(reversed(list(_names_in(diff))))
    final = {n.name: (n.op, tuple(n.input)) for n in post.node}
    state = {n.name: (n.op, tuple(n.input)) for n in pre.node if n.name in kinds}

    def is_final(name: str) -> bool:
        node, kind = state.get(name), kinds[name]
        if kind == "removed":
            return node is None
        if node is None or name not in final:
            return False
        return node[1] == final[name][1] if kind == "rewired" else node[0] == final[name][0]

    found: dict[str, Attribution] = {}
    for change, delta in zip(passes, deltas, strict=True):
        changed = {name: (node.op, node.inputs) for name, node in nodes_of(delta).items()
                   if name in kinds}
        touched = [n for n in change.removed if n in kinds] + list(changed)
        was_final = {name: is_final(name) for name in touched}
        for name in change.removed:
            state.pop(name, None)
        state.update(changed)
        for name, before in was_final.items():
            if is_final(name) and not before:
                found[name] = Attribution(change.iteration, change.optimizer, change.run)
            elif before and not is_final(name):
                found.pop(name, None)
    # What no pass explains and the last pass's graph does not show either, TensorFlow changed
    # after Grappler.
    return {name: found[name] if name in found and is_final(name)
            else Attribution(0, AFTER_GRAPPLER, 0)
            for name in kinds if name in found and is_final(name) or not is_final(name)}

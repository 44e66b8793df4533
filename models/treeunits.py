"""How the TreeSHAP kernel's tables cover each tree: *units*, subtrees with one table each.

A leaf's contributions depend on a row only through its pattern of satisfied path features
(``models.shapleaf``), and the patterns of all the leaves below a node ``s`` depend only on
the pattern of ``s``'s own ``d_s`` path features and the row's decisions at the ``k``
splits below ``s``. So one table indexed by those ``d_s + k`` bits holds the summed
contributions of all those leaves to the ``u`` distinct features of the subtree and its
path: explaining a row costs one lookup and ``u`` adds for the whole subtree, instead of
one lookup and ``d`` adds per leaf. Each tree is covered from the root down by the largest
subtrees with at most ``bits`` index bits (a tree of depth 3 is a single unit indexed by
its 7 decisions); a leaf with more than ``bits`` distinct path features is a *formula
unit*, computed on the fly (``models.shapleaf.path_leaf``). ``bits`` shrinks until the
tables fit ``budget`` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.treepaths import Paths

BITS = 10  # most index bits of a unit's table (2**10 rows of at most 10 + k values)
TABLE_BYTES = 128 * 2**20  # ... as long as all the tables fit in this


@dataclass(frozen=True)
class Units:
    """The units of all trees. Tree ``t`` owns units ``unit_start[t]:unit_start[t+1]`` and
    needs the edges ``flow_edge[flow_start[t]:flow_start[t+1]]`` flowed to know the patterns
    at its unit roots. Unit ``u``: its root (local index: split ``k`` is ``k``, leaf ``j`` is
    ``splits + j``), ``ds`` (the root's path features: the low index bits), the splits below
    it (``nodes[nstart[u]:nstart[u+1]]``, index bit ``ds + j``), its features
    (``feat[fstart[u]:fstart[u+1]]``), its table's start (``tab``; -1 for a formula unit,
    whose ``leaf`` is the global leaf), and for filling: its leaves
    (``leaves[lstart[u]:lstart[u+1]]``), the edges below its root (``edges[estart[u]:...]``),
    and per path element its slot among the unit's features (``pe_slot``)."""

    unit_start: np.ndarray
    flow_start: np.ndarray
    flow_edge: np.ndarray
    root: np.ndarray
    ds: np.ndarray
    nstart: np.ndarray
    nodes: np.ndarray
    fstart: np.ndarray
    feat: np.ndarray
    tab: np.ndarray
    leaf: np.ndarray
    lstart: np.ndarray
    leaves: np.ndarray
    estart: np.ndarray
    edges: np.ndarray
    pe_slot: np.ndarray
    table_size: int

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.unit_start, self.flow_start, self.flow_edge, self.root, self.ds,
                self.nstart, self.nodes, self.fstart, self.feat, self.tab, self.leaf)

    def fill_arrays(self) -> tuple[np.ndarray, ...]:
        tree = np.repeat(np.arange(len(self.unit_start) - 1), np.diff(self.unit_start))
        return (self.lstart, self.leaves, self.estart, self.edges, self.pe_slot, tree)


@dataclass
class _Tree:
    """One tree's shape: per local node (splits, then leaves) its children (with edges), its
    path features, and per split the splits, leaves and features below it."""

    splits: int
    children: list[list[tuple[int, int]]]  # (child, edge)
    path: list[list[int]]
    below_splits: list[list[int]]
    below_leaves: list[list[int]]
    below_feats: list[list[int]]


def _tree(P: Paths, t: int) -> _Tree:
    splits = int(P.node_start[t + 1] - P.node_start[t])
    n_leaves = int(P.leaf_start[t + 1] - P.leaf_start[t])
    size = splits + n_leaves
    children: list[list[tuple[int, int]]] = [[] for _ in range(size)]
    path: list[list[int]] = [[] for _ in range(size)]
    for c in range(int(P.edge_start[t]), int(P.edge_start[t + 1])):  # parents first
        k, target = int(P.edge_parent[c]), int(P.edge_target[c])
        child = target if target >= 0 else splits + ~target
        children[k].append((child, c))
        f = int(P.feat[P.node_start[t] + k])
        path[child] = path[k] + ([f] if f not in path[k] else [])
    below_splits: list[list[int]] = [[] for _ in range(size)]
    below_leaves: list[list[int]] = [[j - splits] if j >= splits else [] for j in range(size)]
    below_feats: list[list[int]] = [[] for _ in range(size)]
    for k in reversed(_preorder(children)):  # children before parents
        if k >= splits:
            continue
        below_splits[k] = [k] + [s for child, _ in children[k] for s in below_splits[child]]
        below_leaves[k] = [j for child, _ in children[k] for j in below_leaves[child]]
        feats = [int(P.feat[P.node_start[t] + s]) for s in below_splits[k]]
        below_feats[k] = list(dict.fromkeys(feats))
    return _Tree(splits, children, path, below_splits, below_leaves, below_feats)


def _preorder(children: list[list[tuple[int, int]]]) -> list[int]:
    order, stack = [], [0] if children else []
    while stack:
        k = stack.pop()
        order.append(k)
        stack.extend(child for child, _ in children[k])
    return order


def _cover(tree: _Tree, bits: int) -> list[int]:
    """The unit roots: from the root down, the first nodes with at most ``bits`` index bits
    (leaves with more path features than that stay formula units)."""
    roots, stack = [], [0] if tree.children else []
    while stack:
        k = stack.pop()
        if len(tree.path[k]) + len(tree.below_splits[k]) <= bits or k >= tree.splits:
            roots.append(k)
        else:
            stack.extend(child for child, _ in reversed(tree.children[k]))
    return roots


def table_bytes(trees: list[_Tree], bits: int) -> int:
    total = 0
    for tree in trees:
        for k in _cover(tree, bits):
            b = len(tree.path[k]) + len(tree.below_splits[k])
            if b <= bits:
                total += 8 * (1 << b) * len(dict.fromkeys(tree.path[k] + tree.below_feats[k]))
    return total


def layout(P: Paths, bits: int = BITS, budget: int = TABLE_BYTES) -> Units:
    """The units of ``P``'s trees with at most ``bits`` index bits (fewer until the tables
    fit ``budget`` bytes; 0: every leaf is a formula unit)."""
    trees = [_tree(P, t) for t in range(len(P.node_start) - 1)]
    while bits > 0 and table_bytes(trees, bits) > budget:
        bits -= 1
    cols: dict[str, list[int]] = {k: [] for k in (
        "flow_edge", "root", "ds", "nodes", "feat", "tab", "leaf", "leaves", "edges")}
    starts: dict[str, list[int]] = {k: [0] for k in ("unit", "flow", "n", "f", "l", "e")}
    pe_slot = np.zeros(len(P.pe_feat), dtype=np.int64)
    size = 0
    for t, tree in enumerate(trees):
        covered: set[int] = set()
        for k in _cover(tree, bits):
            size = _add_unit(P, t, tree, k, bits, size, cols, starts, pe_slot)
            covered.update(tree.below_splits[k] if cols["tab"][-1] >= 0 else [])
        cols["flow_edge"].extend(
            c for k in range(tree.splits) if k not in covered for _, c in tree.children[k])
        cols["flow_edge"][starts["flow"][-1]:] = sorted(cols["flow_edge"][starts["flow"][-1]:])
        starts["unit"].append(len(cols["root"]))
        starts["flow"].append(len(cols["flow_edge"]))

    def arr(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64)

    return Units(
        unit_start=arr(starts["unit"]), flow_start=arr(starts["flow"]),
        flow_edge=arr(cols["flow_edge"]), root=arr(cols["root"]), ds=arr(cols["ds"]),
        nstart=arr(starts["n"]), nodes=arr(cols["nodes"]), fstart=arr(starts["f"]),
        feat=arr(cols["feat"]), tab=arr(cols["tab"]), leaf=arr(cols["leaf"]),
        lstart=arr(starts["l"]), leaves=arr(cols["leaves"]), estart=arr(starts["e"]),
        edges=arr(cols["edges"]), pe_slot=pe_slot, table_size=size,
    )


def _add_unit(P: Paths, t: int, tree: _Tree, k: int, bits: int, size: int,
              cols: dict[str, list[int]], starts: dict[str, list[int]],
              pe_slot: np.ndarray) -> int:
    """Append the unit rooted at local node ``k``; returns the new table size."""
    l0 = int(P.leaf_start[t])
    leaves = [l0 + j for j in tree.below_leaves[k]]
    ds = len(tree.path[k])
    formula = k >= tree.splits and ds > bits
    feats = list(dict.fromkeys(tree.path[k] + tree.below_feats[k]))
    for leaf in leaves:
        for q in range(int(P.pe_start[leaf]), int(P.pe_start[leaf] + P.leaf_d[leaf])):
            pe_slot[q] = feats.index(int(P.pe_feat[q]))
    b = ds + len(tree.below_splits[k])
    cols["root"].append(k)
    cols["ds"].append(ds)
    cols["nodes"].extend(tree.below_splits[k])
    cols["feat"].extend(feats)
    cols["tab"].append(-1 if formula else size)
    cols["leaf"].append(leaves[0] if formula else -1)
    cols["leaves"].extend(leaves)
    cols["edges"].extend(sorted(c for s in tree.below_splits[k] for _, c in tree.children[s]))
    for key, col in (("n", "nodes"), ("f", "feat"), ("l", "leaves"), ("e", "edges")):
        starts[key].append(len(cols[col]))
    return size if formula else size + (1 << b) * len(feats)

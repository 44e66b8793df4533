"""LightGBM trees as flat arrays of nodes, leaves and leaf paths, for the TreeSHAP kernel.

``parse_paths(booster)`` reads ``booster.dump_model()`` (the best iteration, as ``predict``
uses): per internal node its feature, threshold, default side and missing type; per leaf its
value, its share of the root's data count, and its path: the distinct features split on
(in order of first use) with the product of the cover fractions ``child count / parent
count`` of their splits (LightGBM's path-dependent weights are the data counts
``internal_count``/``leaf_count``), and every split condition (node, side, feature position).
Categorical splits, linear trees, random-forest averaging and multi-output models are
refused with :class:`UnsupportedBoosterError`; callers fall back to ``pred_contrib``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from wijkradar.errors import ExplanationError

MISSING_TYPES = {"None": 0, "Zero": 1, "NaN": 2}
MAX_PATH_FEATURES = 62  # patterns are int64 bit masks


class UnsupportedBoosterError(ExplanationError):
    """The booster has a structure the kernel does not handle (e.g. categorical splits)."""


@dataclass(frozen=True)
class Paths:
    """The trees of a booster, flattened: internal nodes, leaves, and each leaf's path.

    Tree ``t`` owns nodes ``node_start[t]:node_start[t+1]`` (local index = split index),
    leaves ``leaf_start[t]:leaf_start[t+1]`` and edges ``edge_start[t]:edge_start[t+1]``.
    A node sends NaN left when ``nan_left``, a zero (``|x| <= kZeroThreshold``) left when
    ``zero_left``, any other value left when ``x <= thr``. Leaf ``l`` has ``leaf_d[l]``
    distinct path features ``pe_feat/pe_z[pe_start[l]:pe_start[l]+leaf_d[l]]`` (cover
    fraction products). The edges, parents before children, let a row's satisfied-feature
    pattern flow down the tree: the child (``edge_target`` = local node, or ``~leaf`` for
    the tree's leaf ``leaf``) of ``edge_parent`` on side ``edge_left`` (1 = left) clears
    bit ``edge_pos`` (the parent's feature's position on the path) when the row goes the
    other way.
    """

    n_features: int
    node_start: np.ndarray
    feat: np.ndarray
    thr: np.ndarray
    nan_left: np.ndarray
    zero_left: np.ndarray
    missing: np.ndarray  # per node: 0 None, 1 Zero, 2 NaN (LightGBM's missing type)
    leaf_start: np.ndarray
    leaf_value: np.ndarray
    leaf_share: np.ndarray  # leaf_count / root count: the path-dependent expected value
    leaf_d: np.ndarray
    pe_start: np.ndarray
    pe_feat: np.ndarray
    pe_z: np.ndarray
    edge_start: np.ndarray
    edge_parent: np.ndarray
    edge_left: np.ndarray
    edge_pos: np.ndarray
    edge_target: np.ndarray

    @property
    def max_nodes(self) -> int:
        return int(np.diff(self.node_start).max(initial=0))

    @property
    def max_d(self) -> int:
        return int(self.leaf_d.max(initial=0))


def _refuse_unsupported(dump: dict[str, Any]) -> None:
    if dump.get("num_tree_per_iteration", 1) != 1:
        raise UnsupportedBoosterError(
            "The fast TreeSHAP kernel explains single-output (binary or regression) models. "
            f"Got {dump['num_tree_per_iteration']} trees per iteration instead."
        )
    if dump.get("average_output"):
        raise UnsupportedBoosterError(
            "The fast TreeSHAP kernel does not explain random-forest (averaged) models."
        )
    categorical, linear = set(), False
    names = dump.get("feature_names", [])
    for tree in dump["tree_info"]:
        linear = linear or "leaf_coeff" in str(tree.get("tree_structure", {}).keys())
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_index" not in node:
                linear = linear or "leaf_coeff" in node
                continue
            if node["decision_type"] != "<=":
                f = node["split_feature"]
                categorical.add(names[f] if f < len(names) else f"feature {f}")
            stack.extend((node["left_child"], node["right_child"]))
    if categorical:
        raise UnsupportedBoosterError(
            "The fast TreeSHAP kernel supports numerical splits ('<=') only. Got categorical "
            f"splits ('==') on: {', '.join(sorted(map(str, categorical)))}."
        )
    if linear:
        raise UnsupportedBoosterError("The fast TreeSHAP kernel does not explain linear trees.")


def _count(node: dict[str, Any]) -> float:
    return float(node["internal_count"] if "split_index" in node else node["leaf_count"])


def _leaf_path(path: list[tuple[int, int, int, float]]) -> tuple[list[int], list[float]]:
    """Distinct features in order of first use, and their cover fraction products."""
    feats: list[int] = []
    zs: list[float] = []
    for f, _node, _left, z in path:
        if f in feats:
            zs[feats.index(f)] *= z
        else:
            feats.append(f)
            zs.append(z)
    return feats, zs


def _sides(node: dict[str, Any]) -> tuple[bool, bool]:
    """Where a NaN and where a zero go at a numerical node (LightGBM's NumericalDecision:
    NaN reads as 0 unless the missing type is NaN; type Zero sends 0 the default way)."""
    missing, default_left = node["missing_type"], bool(node["default_left"])
    zero_goes_left = float(node["threshold"]) >= 0.0
    if missing == "Zero":
        return default_left, default_left
    if missing == "NaN":
        return default_left, zero_goes_left
    return zero_goes_left, zero_goes_left


Step = tuple[int, int, int, float]  # (feature, node, side, cover fraction) along a path


def parse_paths(booster: Any) -> Paths:
    """The booster's trees as :class:`Paths` (from ``booster.dump_model()``, best iteration)."""
    dump = booster.dump_model()
    _refuse_unsupported(dump)
    lists: dict[str, list[Any]] = {k: [] for k in (
        "feat", "thr", "nan_left", "zero_left", "missing", "leaf_value", "leaf_share", "leaf_d",
        "pe_feat", "pe_z", "edge_parent", "edge_left", "edge_pos", "edge_target")}
    starts: dict[str, list[int]] = {"node": [0], "leaf": [0], "pe": [], "edge": [0]}
    for tree in dump["tree_info"]:
        _parse_tree(tree, lists, starts)
        starts["node"].append(len(lists["feat"]))
        starts["leaf"].append(len(lists["leaf_value"]))
        starts["edge"].append(len(lists["edge_parent"]))

    def arr(key: str, dtype: Any) -> np.ndarray:
        return np.asarray(lists[key], dtype=dtype)

    i32, i64, f64 = np.int32, np.int64, np.float64
    return Paths(
        n_features=int(dump["max_feature_idx"]) + 1,
        node_start=np.asarray(starts["node"], i64), feat=arr("feat", i32), thr=arr("thr", f64),
        nan_left=arr("nan_left", np.bool_), zero_left=arr("zero_left", np.bool_),
        missing=arr("missing", i32), leaf_start=np.asarray(starts["leaf"], i64),
        leaf_value=arr("leaf_value", f64), leaf_share=arr("leaf_share", f64),
        leaf_d=arr("leaf_d", i32), pe_start=np.asarray(starts["pe"], i64),
        pe_feat=arr("pe_feat", i32), pe_z=arr("pe_z", f64),
        edge_start=np.asarray(starts["edge"], i64), edge_parent=arr("edge_parent", i32),
        edge_left=arr("edge_left", i32), edge_pos=arr("edge_pos", i32),
        edge_target=arr("edge_target", i32),
    )


def _parse_tree(tree: dict[str, Any], lists: dict[str, list[Any]],
                starts: dict[str, list[int]]) -> None:
    root = tree["tree_structure"]
    n_internal = tree["num_leaves"] - 1
    offset = len(lists["feat"])
    for key, fill in (("feat", 0), ("thr", 0.0), ("nan_left", False), ("zero_left", False),
                      ("missing", 0)):
        lists[key].extend([fill] * n_internal)
    total = _count(root) if n_internal else 1.0
    leaves: dict[int, tuple[float, float, list[Step]]] = {}
    # (node, path to it, parent's local index, side, position of the parent's feature)
    stack: list[tuple[dict[str, Any], list[Step], int, int, int]] = [(root, [], -1, 0, 0)]
    while stack:
        node, path, parent, side, pos = stack.pop()
        is_leaf = "split_index" not in node
        target = ~node.get("leaf_index", 0) if is_leaf else node["split_index"]
        if parent >= 0:
            for key, value in (("edge_parent", parent), ("edge_left", side), ("edge_pos", pos),
                               ("edge_target", target)):
                lists[key].append(value)
        if is_leaf:
            share = _count(node) / total if n_internal else 1.0
            leaves[~target] = (float(node["leaf_value"]), share, path)
            continue
        k, f, w = node["split_index"], node["split_feature"], _count(node)
        lists["feat"][offset + k], lists["thr"][offset + k] = f, float(node["threshold"])
        nan_left, zero_left = _sides(node)
        lists["nan_left"][offset + k], lists["zero_left"][offset + k] = nan_left, zero_left
        lists["missing"][offset + k] = MISSING_TYPES[node["missing_type"]]
        seen = list(dict.fromkeys(step[0] for step in path))
        at = seen.index(f) if f in seen else len(seen)
        for child, left in ((node["left_child"], 1), (node["right_child"], 0)):
            stack.append((child, [*path, (f, k, left, _count(child) / w)], k, left, at))
    for index in range(len(leaves)):
        value, share, path = leaves[index]
        feats, zs = _leaf_path(path)
        if len(feats) > MAX_PATH_FEATURES:
            raise UnsupportedBoosterError(
                f"The fast TreeSHAP kernel handles paths of at most {MAX_PATH_FEATURES} "
                f"distinct features. Got {len(feats)}."
            )
        starts["pe"].append(len(lists["pe_feat"]))
        lists["leaf_value"].append(value)
        lists["leaf_share"].append(share)
        lists["leaf_d"].append(len(feats))
        lists["pe_feat"].extend(feats)
        lists["pe_z"].extend(zs)

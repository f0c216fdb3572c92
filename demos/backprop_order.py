"""Backprop must visit nodes in reverse topological order; BFS and DFS are only right by luck.

A node may pass its gradient on to its inputs only after every node that uses it has added its
contribution. Reverse topological order guarantees that, and the gradients it gives match finite
differences. On a graph with shared nodes (a diamond plus a skip connection) a breadth-first order
and a naive depth-first pre-order pass a node's gradient on too early and get the wrong answer; on
a plain chain every order agrees, which is the "might get lucky" case. A modified DFS (record a
node after all its inputs, i.e. post-order) gives a topological order.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from demos._common import Check, DemoResult, equal, greater, main, max_error

CLAIM = ("Backprop needs reverse topological order: it matches finite differences on a DAG with shared "
         "nodes where BFS and DFS pre-order give wrong gradients; on a chain all orders agree by luck.")

CHECKS = (
    "dfs_postorder_is_topological",
    "reverse_topological_matches_fd",
    "bfs_wrong_on_dag",
    "dfs_preorder_wrong_on_dag",
    "chain_all_orders_agree",
)

# A graph: node name -> (op, parent names); "out" is the output, ops with no parents are inputs.
Graph = dict[str, tuple[str, tuple[str, ...]]]

# value, and d(value)/d(each parent) given the parents' values
OPS: dict[str, Callable[..., tuple[float, tuple[float, ...]]]] = {
    "add": lambda a, b: (a + b, (1.0, 1.0)),
    "mul": lambda a, b: (a * b, (b, a)),
    "sin": lambda a: (math.sin(a), (math.cos(a),)),
    "exp": lambda a: (math.exp(a), (math.exp(a),)),
    "tanh": lambda a: (math.tanh(a), (1 - math.tanh(a) ** 2,)),
}


def diamond_graph() -> Graph:
    """a feeds b and c (a diamond that meets again at d), and also skips straight to e."""
    return {"x": ("input", ()), "w": ("input", ()), "a": ("mul", ("x", "w")),
            "b": ("sin", ("a",)), "c": ("exp", ("a",)), "d": ("mul", ("b", "c")),
            "e": ("add", ("d", "a")), "out": ("tanh", ("e",))}


def chain_graph() -> Graph:
    """Every node has exactly one consumer: x -> sin -> exp -> tanh -> sin."""
    return {"x": ("input", ()), "a": ("sin", ("x",)), "b": ("exp", ("a",)),
            "c": ("tanh", ("b",)), "out": ("sin", ("c",))}


def topological_order(graph: Graph, method: str = "dfs_postorder") -> list[str]:
    """Inputs first. The modified DFS appends a node only after all of its parents (post-order)."""
    if method == "bfs":  # deliberately wrong: BFS from the output, reversed
        return list(reversed(bfs_order(graph)))
    if method != "dfs_postorder":
        raise ValueError(f"unknown method {method!r}")
    seen: set[str] = set()
    order: list[str] = []

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for parent in graph[node][1]:
            visit(parent)
        order.append(node)  # post-order: every parent is already in `order`

    visit("out")
    return order


def bfs_order(graph: Graph) -> list[str]:
    """Breadth-first from the output, each node processed when first discovered."""
    order, seen, queue = [], {"out"}, deque(["out"])
    while queue:
        node = queue.popleft()
        order.append(node)
        for parent in graph[node][1]:
            if parent not in seen:
                seen.add(parent)
                queue.append(parent)
    return order


def dfs_preorder(graph: Graph) -> list[str]:
    """Naive depth-first from the output: a node is processed as soon as it is reached."""
    order: list[str] = []

    def visit(node: str) -> None:
        if node in order:
            return
        order.append(node)
        for parent in graph[node][1]:
            visit(parent)

    visit("out")
    return order


ORDERS: dict[str, Callable[[Graph], list[str]]] = {
    "reverse_topological": lambda g: list(reversed(topological_order(g))),
    "bfs": bfs_order,
    "dfs_preorder": dfs_preorder,
}


def forward(graph: Graph, inputs: dict[str, float]) -> tuple[dict[str, float], dict[str, tuple[float, ...]]]:
    """Values of every node and the local derivatives w.r.t. their parents."""
    values, local = dict(inputs), {}
    for node in topological_order(graph):
        op, parents = graph[node]
        if op != "input":
            values[node], local[node] = OPS[op](*(values[p] for p in parents))
    return values, local


def backward(graph: Graph, inputs: dict[str, float], order: str = "reverse_topological") -> dict[str, float]:
    """d out / d input for every input, processing nodes in the named order.

    Processing a node passes its *current* gradient to its parents; if a consumer of the node has
    not been processed yet, that consumer's contribution is missing and the result is wrong.
    """
    _, local = forward(graph, inputs)
    grad = dict.fromkeys(graph, 0.0)
    grad["out"] = 1.0
    for node in ORDERS[order](graph):
        for parent, d in zip(graph[node][1], local.get(node, ()), strict=True):
            grad[parent] += d * grad[node]
    return {k: grad[k] for k in inputs}


def finite_differences(graph: Graph, inputs: dict[str, float], h: float = 1e-6) -> dict[str, float]:
    """Central differences of the forward pass: the independent reference."""
    out = {}
    for k in inputs:
        hi = forward(graph, {**inputs, k: inputs[k] + h})[0]["out"]
        lo = forward(graph, {**inputs, k: inputs[k] - h})[0]["out"]
        out[k] = (hi - lo) / (2 * h)
    return out


DAG_INPUTS = {"x": 0.7, "w": -1.3}
CHAIN_INPUTS = {"x": 0.4}


def gradient_error(graph: Graph, inputs: dict[str, float], order: str) -> float:
    fd = finite_differences(graph, inputs)
    got = backward(graph, inputs, order)
    return max(abs(got[k] - fd[k]) for k in inputs)


def check_topological(graph: Graph, method: str = "dfs_postorder") -> Check:
    order = topological_order(graph, method)
    position = {n: i for i, n in enumerate(order)}
    # Reference: the definition. Every edge parent -> child must go forward in the order.
    violations = sum(position[p] > position[n] for n, (_, parents) in graph.items() for p in parents)
    return equal("dfs_postorder_is_topological", violations, 0,
                 detail=f"edges that point backwards in the {method} order {order}")


def check_matches_fd(graph: Graph, inputs: dict[str, float], order: str = "reverse_topological") -> Check:
    got, fd = backward(graph, inputs, order), finite_differences(graph, inputs)
    return max_error("reverse_topological_matches_fd", [got[k] for k in inputs], [fd[k] for k in inputs],
                     atol=1e-6, detail=f"backprop in {order} order vs central finite differences on the DAG")


def check_order_wrong(graph: Graph, inputs: dict[str, float], order: str) -> Check:
    err = gradient_error(graph, inputs, order)
    return greater(f"{order}_wrong_on_dag", err, 1e-3,
                   detail=f"max |gradient from {order} order - finite differences| on the diamond+skip graph")


def check_chain(graph: Graph, inputs: dict[str, float]) -> Check:
    errors = [gradient_error(graph, inputs, order) for order in ORDERS]
    return max_error("chain_all_orders_agree", errors, np.zeros(len(errors)), atol=1e-6,
                     detail=f"on a chain, |gradient - finite differences| for each of {list(ORDERS)}")


def run(out_dir: Path | None = None, *, order: str = "reverse_topological", topo_method: str = "dfs_postorder",
        ) -> DemoResult:
    """`order` / `topo_method` replace the correct choices (tests use them to break the claim)."""
    dag, chain = diamond_graph(), chain_graph()
    checks = [
        check_topological(dag, topo_method),
        check_matches_fd(dag, DAG_INPUTS, order),
        check_order_wrong(dag, DAG_INPUTS, "bfs"),
        check_order_wrong(dag, DAG_INPUTS, "dfs_preorder"),
        check_chain(chain, CHAIN_INPUTS),
    ]
    fd = finite_differences(dag, DAG_INPUTS)
    metrics: dict = {"finite_differences": {k: round(v, 8) for k, v in fd.items()}}
    for name, fn in ORDERS.items():
        metrics[f"{name}_order"] = fn(dag)
        metrics[f"{name}_gradients"] = {k: round(v, 8) for k, v in backward(dag, DAG_INPUTS, name).items()}
        metrics[f"{name}_max_error"] = gradient_error(dag, DAG_INPUTS, name)
    metrics["topological_order"] = topological_order(dag)
    return DemoResult("backprop_order", CLAIM, checks, metrics)


if __name__ == "__main__":
    raise SystemExit(main(run))

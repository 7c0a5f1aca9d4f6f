"""Running the official code as a fixture oracle: shared by the tools/make_*_fixtures.py scripts.

The official repositories are checkouts kept outside this repository; nothing of them is copied here.
"""
import importlib
import os
import sys

import torch


def on_cpu():
    """The official code calls .cuda() everywhere: make it a no-op, so that it runs on the CPU."""
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self


def official(root, *modules):
    """Import the official modules of one checkout (each repository has its own `lib` package, and
    HREM-style ones an `arguments` and a `graph_lib` module at the top, so earlier imports are dropped)."""
    for m in list(sys.modules):
        if m == "lib" or m.startswith("lib.") or m in ("arguments", "graph_lib"):
            del sys.modules[m]
    sys.path.insert(0, os.path.abspath(root))
    try:
        return [importlib.import_module(m) for m in modules]
    finally:
        sys.path.pop(0)

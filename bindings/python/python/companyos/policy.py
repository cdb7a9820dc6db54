"""Policy packs and in-process Rego decisions (cos-policy)."""

from ._native import Engine, Pack, PolicyError

__all__ = ["Pack", "Engine", "PolicyError"]

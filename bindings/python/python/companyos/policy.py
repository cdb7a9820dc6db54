"""Policy packs and in-process Rego decisions (cos-policy)."""

from ._native import DecisionLogger, Engine, JsonLinesWriter, Pack, PolicyError

__all__ = ["Pack", "Engine", "DecisionLogger", "JsonLinesWriter", "PolicyError"]

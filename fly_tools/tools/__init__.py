"""LangChain tools built from the catalogue: factory, call pipeline, content summaries."""

from fly_tools.tools.factory import make_tool, tool_metadata
from fly_tools.tools.pipeline import ToolkitRuntime

__all__ = ["ToolkitRuntime", "make_tool", "tool_metadata"]

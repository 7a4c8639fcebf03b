"""LangChain tools built from the catalogue: factory, call pipeline, content summaries."""

from fly_tools.tools.factory import make_tool, tool_metadata
from fly_tools.tools.pipeline import ToolRuntime

__all__ = ["ToolRuntime", "make_tool", "tool_metadata"]

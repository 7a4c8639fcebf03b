"""A scripted chat model: follows a fixed plan of tool calls, so demos and tests run with no LLM.

It is not a model of anything: each turn it plays the next step of its script. A step
is an ``AIMessage`` or a function of the conversation so far that returns one, which
lets a script read earlier tool results (e.g. pick the stopped machine from a listing).
The step to play is the number of AI messages already in the conversation, so a run
paused for human approval resumes at the right place.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field

ScriptStep = Callable[[Sequence[BaseMessage]], AIMessage] | AIMessage

_ids = itertools.count(1)


def call(name: str, **args: Any) -> AIMessage:
    """An AI message that makes one tool call."""
    return calls((name, args))


def calls(*requests: tuple[str, dict[str, Any]]) -> AIMessage:
    """An AI message that makes several tool calls at once."""
    tool_calls = [
        ToolCall(name=name, args=args, id=f"call_{next(_ids)}", type="tool_call")
        for name, args in requests
    ]
    return AIMessage(content="", tool_calls=tool_calls)


def say(text: str) -> AIMessage:
    """An AI message with text and no tool call (ends the agent's run)."""
    return AIMessage(content=text)


class ScriptedChatModel(BaseChatModel):
    """Plays ``script`` one step per turn; after the last step it answers ``final``."""

    # Callables first, left to right: AIMessage's own validators would choke on a function.
    script: list[Annotated[ScriptStep, Field(union_mode="left_to_right")]] = Field(
        default_factory=list
    )
    final: str = "Done."

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.next_turn(messages))])

    def next_turn(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The script's step for this turn (one per AI message so far), else the final answer."""
        turn = sum(isinstance(m, AIMessage) for m in messages)
        if turn < len(self.script):
            step = self.script[turn]
            return step if isinstance(step, AIMessage) else step(messages)
        return say(self.final)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Tools are accepted and ignored: the script already knows what to call."""
        return self

"""LangChain v1 agents: a person approves gated calls in the agent's middleware, as receipts.

Needs the ``agents`` extra (``langchain``, ``langgraph``)::

    toolkit = FlyToolkit(client=client, scope="deploy", app="web", confirm=MiddlewareApproval())
    agent = create_agent(model, toolkit.get_tools(), middleware=approval_middleware(toolkit),
                         checkpointer=InMemorySaver())

:class:`FlyApprovalMiddleware` is a ``HumanInTheLoopMiddleware`` configured from the
toolkit's tiers that asks the reviewer itself, so it alone sees each decision: it turns
an approval into a receipt bound to the exact call (tool, arguments after app binding
and edits, target, thread and tool-call id) that the toolkit checks when it sends. An
edit is validated, guarded, described again and must be approved again as edited.
Rejections and answers given in the tool's place are recorded when they are made.
:class:`FlyReviewSnapshot` runs just before it and records in the checkpoint what each
reviewer is shown; at resume an approval stands only if the call, read again from Fly,
reads as it was shown.
"""

from fly_tools.agents.middleware import FlyApprovalMiddleware
from fly_tools.agents.snapshot import FlyReviewSnapshot, approval_middleware

__all__ = ["FlyApprovalMiddleware", "FlyReviewSnapshot", "approval_middleware"]

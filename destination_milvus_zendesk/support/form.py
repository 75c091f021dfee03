"""The support form (Streamlit): is this case a duplicate of an unsolved ticket, and which articles
answer it? Run by `streamlit run destination_milvus_zendesk/support_form.py [-- --tutorial]`, which
calls `main()` on every rerun.

Configuration: SUPPORT_FORM_CONFIG = path to the connector's config JSON; without it MILVUS_URL,
MILVUS_TOKEN and OPENAI_API_KEY (and optional MILVUS_COLLECTION), as in the tutorial.
The organization comes from the sidebar, prefilled by the `?org=<id>` query parameter (stand-in for
the customer's login); the sidebar chooses which ticket statuses count as open (default: Zendesk's
unsolved set). ZENDESK_SUBDOMAIN (or the tickets' `url` field) gives the links to the tickets.
`-- --tutorial` (or SUPPORT_FORM_MODE=tutorial) restores the tutorial's form: statuses `new` only,
"Submitted!", and articles only when no duplicate was found.

Milvus Lite lets one process open a database file at a time: with a `.db` file the form opens it
for each lookup and releases it right after, so a sync can run while the form is open. A Milvus
server has no such limit: one connection is shared by every session.
"""

from __future__ import annotations

import os
import sys

import streamlit as st

from ..config import ConnectorConfig
from ..embedding.base import Embedder
from ..embedding.factory import create_embedder
from ..errors import ConnectorError
from .answer import RETRIEVAL_NOTES, SupportAnswer, TicketHit
from .inputs import (DEFAULT_STATUSES, TUTORIAL_STATUSES, ZENDESK_STATUSES, QueryInputError,
                     organization_id_value)
from .search import SupportSearch
from .settings import load_config


def config_path() -> str | None:
    return os.environ.get("SUPPORT_FORM_CONFIG") or None


def tutorial_mode() -> bool:
    return "--tutorial" in sys.argv[1:] or os.environ.get("SUPPORT_FORM_MODE", "").lower() == "tutorial"


@st.cache_resource(show_spinner="Loading the embedding model...")
def backend(path: str | None) -> tuple[ConnectorConfig, Embedder]:
    """The config and the embedder, shared by every session (failures are not cached)."""
    config = load_config(path)
    return config, create_embedder(config)


@st.cache_resource(show_spinner="Connecting to Milvus...")
def server_search(path: str | None) -> SupportSearch:
    """One connection per config to a Milvus server, shared by every session."""
    config, embedder = backend(path)
    return SupportSearch.from_config(config, embedder)


def lookup(text: str, organization_id: int, statuses: list[str]) -> SupportAnswer:
    config, embedder = backend(config_path())
    if config.indexing.is_lite:  # opened for this lookup only: the file stays free for syncs and the CLI
        search = SupportSearch.from_config(config, embedder)
        try:
            return search.lookup(text, organization_id, statuses)
        finally:
            search.close()
    return server_search(config_path()).lookup(text, organization_id, statuses)


def organization_from_url() -> str:
    raw = st.query_params.get("org")
    if raw is None:
        return ""
    try:
        return str(organization_id_value(raw))
    except QueryInputError as exc:
        st.sidebar.error(f"Ignoring ?org=: {exc}")
        return ""


def link_text(title: object) -> str:
    return str(title).replace("[", "\\[").replace("]", "\\]")


def when(timestamp: str | None) -> str:
    return timestamp.replace("T", " ").replace("Z", " UTC") if timestamp else "unknown"


def show_answer(answer: SupportAnswer) -> None:
    if answer.duplicate:
        _show_duplicate(answer)
    elif answer.organization_has_tickets is False:
        st.info(f"Organization {answer.organization_id} has no tickets in this collection: check the organization "
                "id. Nothing was submitted.")
    else:
        st.info(f"No {', '.join(answer.statuses)} ticket of organization {answer.organization_id} matches this case: "
                "it looks new. Nothing was submitted: create the ticket in Zendesk.")
    st.subheader("Help-center articles", divider="gray")
    helpful = answer.helpful_articles
    if helpful:
        st.markdown("\n".join(f"* [{link_text(a.title or a.html_url)}]({a.html_url}) ({a.closeness})"
                              for a in helpful))
    else:
        st.caption("No help-center article is close to this text.")
    st.caption(RETRIEVAL_NOTES[answer.retrieval])


def decision_basis(answer: SupportAnswer, hit: TicketHit) -> str:
    """What decided: a dense distance under its threshold, or (hybrid) the adjusted distance under its own."""
    if hit.score is not None:
        return f"{answer.measure(hit)}; duplicates are below {answer.duplicate_threshold:.2f}"
    return f"distance {hit.distance:.3f}; duplicates are below {answer.duplicate_threshold:.2f}"


def _show_duplicate(answer: SupportAnswer) -> None:
    d = answer.duplicate
    title = f"#{d.id} {link_text(d.subject or '(no subject)')}"
    lines = [f"**Possible duplicate: {f'[{title}]({d.url})' if d.url else title}**",
             f"Status **{d.status or 'unknown'}**, last updated {when(d.updated_at)}. "
             f"Closeness: **{d.closeness}** ({decision_basis(answer, d)})."]
    if d.passage:
        lines.append(f"Matching passage: _{d.passage.replace('_', ' ')}_")
    st.warning("\n\n".join(lines))
    others = [t for t in answer.tickets[1:] if t.duplicate]
    if others:
        st.markdown("Also similar:\n" + "\n".join(
            f"* [#{t.id} {link_text(t.subject)}]({t.url}) ({t.status}, {t.closeness})" if t.url else
            f"* #{t.id} {link_text(t.subject)} ({t.status}, {t.closeness})" for t in others))


def show_tutorial_answer(answer: SupportAnswer) -> None:
    if answer.duplicate:
        st.warning(f"This case seems very similar to {answer.duplicate.subject} (id #{answer.duplicate.id})")
    else:
        st.success("Submitted!")
        if answer.helpful_articles:
            st.write("We also found some articles that might help you:")
            st.markdown("\n".join(f"* [{link_text(a.title or a.html_url)}]({a.html_url})"
                                  for a in answer.helpful_articles))


def _input_problem(text: str, organization_text: str, statuses: list[str], tutorial: bool) -> str | None:
    """What is missing before a lookup can run, in the form's words; None when nothing is."""
    if not text.strip():
        return "Please describe your problem before submitting." if tutorial else \
            "Describe the problem before looking it up."
    if not organization_text.strip():
        return "Enter your organization id in the sidebar before submitting." if tutorial else \
            "Enter the organization id in the sidebar first."
    if not statuses:
        return "Choose at least one ticket status in the sidebar."
    try:
        organization_id_value(organization_text)
    except QueryInputError as exc:
        return f"Organization id: {exc}."
    return None


def _submit(text: str, organization_text: str, statuses: list[str], tutorial: bool) -> None:
    problem = _input_problem(text, organization_text, statuses, tutorial)
    if problem:
        st.error(problem)
        return
    try:
        with st.spinner("Looking for similar cases..."):
            answer = lookup(text, organization_id_value(organization_text), statuses)
    except QueryInputError as exc:
        st.error(str(exc))
    except ConnectorError as exc:
        server_search.clear()  # reconnect on the next lookup: Milvus may be back by then
        st.error(exc.message)
    except Exception as exc:  # noqa: BLE001 - never a traceback in the page
        server_search.clear()
        st.error(f"Search is unavailable right now: {type(exc).__name__}")
    else:
        (show_tutorial_answer if tutorial else show_answer)(answer)


def main() -> None:
    tutorial = tutorial_mode()
    st.set_page_config(page_title="Submit a support case" if tutorial else "Support case lookup", page_icon=":mag:")
    try:  # no Deploy button or developer menu in a tool people use (also set in .streamlit/config.toml)
        st.set_option("client.toolbarMode", "minimal")
    except Exception:  # noqa: BLE001 - older Streamlit: the config file still applies
        pass
    st.sidebar.header("Customer")
    organization_text = st.sidebar.text_input("Organization id", value=organization_from_url(),
                                              placeholder="e.g. 360000105148")
    statuses = st.sidebar.multiselect("Ticket statuses that count as open", ZENDESK_STATUSES,
                                      default=list(TUTORIAL_STATUSES if tutorial else DEFAULT_STATUSES))
    st.title("Submit a support case" if tutorial else "Support case lookup")
    if not tutorial:
        st.caption("Checks a customer's case against the organization's unsolved tickets and the help center. "
                   "Nothing is submitted.")
    text = st.text_area("Describe your problem" if tutorial else "Describe the problem")
    if st.button("Submit" if tutorial else "Look up", type="primary"):
        _submit(text, organization_text, statuses, tutorial)

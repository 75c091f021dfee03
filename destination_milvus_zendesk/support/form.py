"""The support form (Streamlit): is this case the same problem as an unsolved ticket, and which
articles answer it? Run by `streamlit run destination_milvus_zendesk/support_form.py [-- --tutorial]`,
which calls `main()` on every rerun.

Configuration: SUPPORT_FORM_CONFIG = path to the connector's config JSON; without it MILVUS_URL,
MILVUS_TOKEN and OPENAI_API_KEY (and optional MILVUS_COLLECTION), as in the tutorial.
The organization comes from the sidebar, prefilled by the `?org=<id>` query parameter (stand-in for
the customer's login); the sidebar chooses which ticket statuses count as open (default: Zendesk's
unsolved set). ZENDESK_SUBDOMAIN (or the tickets' `url` field) gives the links to the tickets.
`-- --tutorial` (or SUPPORT_FORM_MODE=tutorial) restores the tutorial's form: statuses `new` only,
"Submitted!", and articles only when no duplicate was found.

The page speaks to agents: verdicts and reasons, numbers under "Details". What only an administrator
can fix (a host, a process holding a file, a missing calibration) goes to the form's log (stderr of
`streamlit run`), and the page says so in one short line.

Milvus Lite lets one process open a database file at a time: with a `.db` file the form opens it
for each lookup and releases it right after, so a sync can run while the form is open. A Milvus
server has no such limit: one connection is shared by every session.
"""

from __future__ import annotations

import logging
import os
import sys

import streamlit as st

from ..config import ConnectorConfig
from ..embedding.base import Embedder
from ..embedding.factory import create_embedder
from ..errors import ConfigError, ConnectorError
from ..milvus import lite_lock_holder
from .answer import SupportAnswer, View, present, present_tutorial
from .inputs import (DEFAULT_STATUSES, TUTORIAL_STATUSES, ZENDESK_STATUSES, QueryInputError,
                     organization_id_value)
from .search import SupportSearch
from .settings import ALLOW_NETWORK, load_config, network_exposure

log = logging.getLogger("destination_milvus_zendesk.support_form")

_WARNED: set[str] = set()
BUSY = "The ticket data is being updated right now: try again in a minute."
NOT_SET_UP = "The lookup cannot reach its data: ask your administrator (the reason is in the form's log)."
UNAVAILABLE = "Search is unavailable right now: try again in a minute (the reason is in the form's log)."
EXPOSED = "This form is not set up to be served on the network: ask your administrator (the reason is in its log)."


def config_path() -> str | None:
    return os.environ.get("SUPPORT_FORM_CONFIG") or None


def tutorial_mode() -> bool:
    return "--tutorial" in sys.argv[1:] or os.environ.get("SUPPORT_FORM_MODE", "").lower() == "tutorial"


def _log_to_stderr() -> None:
    """The form's own log lines reach stderr (the log of `streamlit run`) when nothing else handles
    them; where the root logger has handlers (a host application, pytest), they go there."""
    log.setLevel(logging.INFO)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s support form: %(message)s"))
        log.addHandler(handler)
        log.propagate = False  # a library may configure the root logger later: one line each, not two


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


def linked(text: str, url: str | None) -> str:
    return f"[{link_text(text)}]({url})" if url else link_text(text)


def show(view: View) -> None:
    """The one presentation (answer.present), laid out: the verdict, the tickets in the order of their
    verdicts with their reasons, the articles in theirs, a note, and the numbers under Details."""
    box = {"duplicate": st.warning, "submitted": st.success}.get(view.tone, st.info)
    box(view.headline)
    for t in view.tickets:
        lines = [f"**{t.label}:** {linked(t.title, t.url)}  \n{t.facts}"]
        if t.why:
            lines.append(f"Why: {t.why}")
        if t.passage and t.label.startswith("Very likely"):
            lines.append(f"Matching passage: _{t.passage.replace('_', ' ')}_")
        st.markdown("  \n".join(lines))
    if view.show_articles:
        _show_articles(view)
    if view.notice:
        st.caption(view.notice)
    if view.details:
        with st.expander("Details"):
            st.markdown("\n".join(f"* {link_text(line)}" for line in view.details))


def _show_articles(view: View) -> None:
    if view.articles_intro.endswith(":"):
        st.write(view.articles_intro)
    else:
        st.subheader(view.articles_intro, divider="gray")
    if view.articles:
        st.markdown("\n".join(f"* {linked(a.title, a.url)}" + (f" ({a.why})" if a.why else "") for a in view.articles))
    elif view.no_articles:
        st.caption(view.no_articles)


def agent_message(exc: BaseException, config: ConnectorConfig | None) -> str:
    """The one line an agent sees for a failure; the full reason goes to the log."""
    if config is not None and config.indexing.is_lite and lite_lock_holder(config.indexing.host):
        return BUSY
    return NOT_SET_UP if isinstance(exc, ConfigError) else UNAVAILABLE


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
    except Exception as exc:  # noqa: BLE001 - never a traceback in the page; the reason goes to the log
        server_search.clear()  # reconnect on the next lookup: Milvus may be back by then
        reason = exc.message if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        log.error("lookup failed: %s", reason, exc_info=not isinstance(exc, ConnectorError))
        st.error(agent_message(exc, _config_or_none()))
    else:
        if not answer.rule.measured and answer.rule.unmeasured not in _WARNED:
            _WARNED.add(answer.rule.unmeasured)  # once per process, not once per lookup
            log.warning("%s", answer.rule.unmeasured)
        show(present_tutorial(answer) if tutorial else present(answer))


def _config_or_none() -> ConnectorConfig | None:
    try:
        return load_config(config_path())
    except Exception:  # noqa: BLE001 - only used to word the message
        return None


def main() -> None:
    _log_to_stderr()
    tutorial = tutorial_mode()
    st.set_page_config(page_title="Submit a support case" if tutorial else "Support case lookup", page_icon=":mag:")
    try:  # no Deploy button or developer menu in a tool people use (also set in .streamlit/config.toml)
        st.set_option("client.toolbarMode", "minimal")
    except Exception:  # noqa: BLE001 - older Streamlit: the config file still applies
        pass
    exposure = network_exposure(st.get_option("server.address"), os.environ.get(ALLOW_NETWORK) == "1")
    if exposure:
        if exposure not in _WARNED:
            _WARNED.add(exposure)
            log.error("%s", exposure)
        st.error(EXPOSED)
        st.stop()
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

"""Search a store the way ``file_search`` would: scored chunks, and the text of each."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Input, Static

from ..api import SearchResultsPage, VectorStore
from ..api.models import SearchResult
from ..widgets.safe import SafeStatic
from ..widgets.table import Column, VirtualTable
from .base import StoreRef, VstuiScreen
from .dialogs import format_pairs

MAX_RESULTS = 20


class SearchScreen(VstuiScreen):
    TITLE = "Search"
    HELP = (
        "Type a query and press Enter: the store's search endpoint returns the best chunks "
        "with their scores, as file_search would see them. Up/down picks a result; its text "
        "shows below."
    )
    AUTO_FOCUS = "#query"

    DEFAULT_CSS = """
    SearchScreen #query {
        border: tall $accent;
    }
    SearchScreen #results {
        height: 1fr;
    }
    SearchScreen #chunk-box {
        height: 1fr;
        border-top: solid $panel;
        padding: 0 1;
    }
    SearchScreen #summary {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+f", "focus_query", "New query"),
    ]

    def __init__(self, store_id: str, store: VectorStore | None = None) -> None:
        super().__init__()
        self.store_id = store_id
        self.store = store
        self.page: SearchResultsPage | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="ask what a user would ask — Enter searches", id="query")
        yield SafeStatic("", id="summary", markup=False)
        yield VirtualTable(
            self._columns(),
            row_key=lambda r: r[0],
            id="results",
            empty_text="Results appear here.",
        )
        with VerticalScroll(id="chunk-box"):
            yield SafeStatic("", id="chunk", markup=False)
        yield Footer(show_command_palette=False)

    @property
    def results(self) -> VirtualTable[tuple[str, SearchResult]]:
        return self.query_one("#results", VirtualTable)

    def _columns(self) -> list[Column[tuple[str, SearchResult]]]:
        def snippet(row: tuple[str, SearchResult]) -> str:
            text = " ".join(part.text for part in row[1].content)
            return " ".join(text.split())

        return [
            Column(
                "rank",
                "#",
                3,
                lambda r: r[0].split(":")[0],
                lambda r: int(r[0].split(":")[0]),
                "right",
            ),
            Column(
                "score", "Score", 6, lambda r: f"{r[1].score:.3f}", lambda r: r[1].score, "right"
            ),
            Column("file", "File", 24, lambda r: r[1].source, lambda r: r[1].source),
            Column(
                "attributes",
                "Attributes",
                20,
                lambda r: Text(
                    format_pairs(r[1].attributes).replace("\n", " "),
                    style=self.results.muted_style(),
                ),
                lambda r: format_pairs(r[1].attributes),
            ),
            Column("snippet", "Chunk", 40, snippet, snippet),
        ]

    def store_in_view(self) -> StoreRef:
        return StoreRef(self.store_id, self.store)

    def on_mount(self) -> None:
        super().on_mount()
        name = self.store.display_name if self.store else self.store_id
        self.title = f"vstui · Search · {name}"

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    @on(Input.Submitted, "#query")
    def _search(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            return
        self.query_one("#summary", Static).update(f"searching for {query!r}…")
        self.results.loading = True
        self.run_io(
            "search",
            partial(self.session.service.search, self.store_id, query, max_num_results=MAX_RESULTS),
            self._results_arrived,
            self._search_failed,
        )

    def _results_arrived(self, page: SearchResultsPage) -> None:
        self.results.loading = False
        self.page = page
        rows = [(f"{i}:{r.file_id}", r) for i, r in enumerate(page.data, start=1)]
        self.results.set_rows(rows)
        self.results.empty_text = "No chunk matches. Try other words."
        queries = " / ".join(page.search_query) or "?"
        self.query_one("#summary", Static).update(
            f"{len(rows)} results for {queries!r}" + (" (more available)" if page.has_more else "")
        )
        if rows:
            self.results.cursor = 0
            self.results.focus()
        self._show(rows[0] if rows else None)

    def _search_failed(self, error: BaseException) -> None:
        self.results.loading = False
        self.query_one("#summary", Static).update("the search failed — see the notification")
        self.notify_error(error, title="Search failed")

    @on(VirtualTable.Highlighted, "#results")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._show(event.row)

    def _show(self, row: Any) -> None:
        text = ""
        if row is not None:
            result: SearchResult = row[1]
            body = "\n\n".join(part.text for part in result.content)
            text = f"{result.describe} · score {result.score:.3f}\n\n{body}"
        self.query_one("#chunk", Static).update(text)

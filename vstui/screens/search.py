"""Search a store the way ``file_search`` would: scored chunks, and the text of each."""

from __future__ import annotations

from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Checkbox, Header, Input, Static

from ..api import SearchResultsPage, VectorStore, limits
from ..api.models import SearchResult
from ..filters import parse_filter
from ..widgets.footer import FitFooter
from ..widgets.frames import same_frame
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
    SearchScreen #options {
        height: 1;
        padding: 0 1;
    }
    SearchScreen #options Input {
        width: 1fr;
        margin-right: 1;
    }
    SearchScreen #options #max, SearchScreen #options #threshold {
        width: 12;
    }
    SearchScreen #options Checkbox {
        width: auto;
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
        self.words: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="ask what a user would ask — Enter searches", id="query")
        with Horizontal(id="options"):
            yield Input(
                placeholder="filter: team=docs and version>=2, or JSON",
                id="filters",
                compact=True,
                tooltip="Attribute filter: key=value, key>=3 … joined by 'and', or a JSON "
                "ComparisonFilter / CompoundFilter",
            )
            yield Input(
                str(MAX_RESULTS), placeholder="max 1–50", id="max", compact=True, type="integer"
            )
            yield Input(placeholder="score ≥ 0–1", id="threshold", compact=True)
            yield Checkbox("rewrite", id="rewrite", compact=True, tooltip="rewrite_query")
        yield SafeStatic("", id="summary", markup=False)
        yield VirtualTable(
            self._columns(),
            row_key=lambda r: r[0],
            id="results",
            empty_text="Results appear here.",
        )
        with VerticalScroll(id="chunk-box"):
            yield SafeStatic("", id="chunk", markup=False)
        yield FitFooter(show_command_palette=False)

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
            Column(
                "file",
                "File",
                24,
                lambda r: r[1].source,
                lambda r: r[1].source,
                min_width=12,
                max_width=40,
                priority=1,
                grow=True,
            ),
            Column(
                "attributes",
                "Attributes",
                20,
                lambda r: Text(
                    format_pairs(r[1].attributes).replace("\n", " "),
                    style=self.results.muted_style(),
                ),
                lambda r: format_pairs(r[1].attributes),
                min_width=12,
                max_width=40,
                priority=4,
                grow=True,
            ),
            Column("snippet", "Chunk", 40, snippet, snippet, min_width=16, priority=2, grow=True),
        ]

    def store_in_view(self) -> StoreRef:
        return StoreRef(self.store_id, self.store)

    def on_mount(self) -> None:
        super().on_mount()
        name = self.store.display_name if self.store else self.store_id
        self.title = f"vstui · Search · {name}"

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def search_options(self) -> dict[str, Any]:
        """The options as the API takes them; ValueError with a sentence when one is wrong."""
        options: dict[str, Any] = {}
        options["filters"] = parse_filter(self.query_one("#filters", Input).value)
        max_text = self.query_one("#max", Input).value.strip()
        if max_text:
            if not max_text.isdigit() or not (
                limits.SEARCH_RESULTS_MIN <= int(max_text) <= limits.SEARCH_RESULTS_MAX
            ):
                raise ValueError(
                    f"max results: a whole number from {limits.SEARCH_RESULTS_MIN} to "
                    f"{limits.SEARCH_RESULTS_MAX}."
                )
            options["max_num_results"] = int(max_text)
        threshold = self.query_one("#threshold", Input).value.strip()
        if threshold:
            try:
                value = float(threshold)
            except ValueError:
                value = -1.0
            if not 0 <= value <= 1:
                raise ValueError("score threshold: a number from 0 to 1.")
            options["ranking_options"] = {"score_threshold": value}
        if self.query_one("#rewrite", Checkbox).value:
            options["rewrite_query"] = True
        return options

    @on(Input.Submitted)
    def _search(self, event: Input.Submitted) -> None:
        query = self.query_one("#query", Input).value.strip()
        if not query:
            self.query_one("#query", Input).focus()
            return
        try:
            options = self.search_options()
        except ValueError as exc:
            self.query_one("#summary", Static).update(f"not sent — {exc}")
            return
        self.words = [w for w in query.split() if len(w) > 1]
        self.query_one("#summary", Static).update(f"searching for {query!r}…")
        self.results.loading = True
        self.run_io(
            "search",
            partial(self.session.service.search, self.store_id, query, **options),
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
        same_frame(self)  # the result's text in the cursor's frame

    def _show(self, row: Any) -> None:
        text = Text()
        if row is not None:
            result: SearchResult = row[1]
            body = "\n\n".join(part.text for part in result.content)
            text.append(
                f"{result.describe} · score {result.score:.3f}\n\n",
                style="bold",
            )
            chunk = Text(body)
            # The query's words, wherever they appear (server text is never markup).
            chunk.highlight_words(self.words, style="reverse", case_sensitive=False)
            text.append_text(chunk)
        self.query_one("#chunk", Static).update(text)
        # Each result starts at its top: the file and score line is always in view.
        self.query_one("#chunk-box", VerticalScroll).scroll_home(animate=False)

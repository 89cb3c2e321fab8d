"""The operator's Reports page: sales by day, week or month, by therapist
and by service, each with its payment-method split — a stacked bar chart to
look at, a table to read, and a CSV export.

The numbers are `domain.reports` over the client's copy (operators hold
every appointment), the same functions the server's CSV route runs, so the
screen and the file agree. The export asks the server for the file
(`ClientPort.sales_csv`) and hands it to the browser or the desktop through
Flet's FilePicker.save_file. Changes redraw once per burst, like the charts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import flet as ft
import flet_charts as fch

from domain import reports
from domain.appointments import PAYMENT_METHODS
from views.components import clock, style
from views.components.feedback import snack
from views.components.redraw import SoonRedraw
from views.components.section import Section
from views.operator.words import METHOD_LABELS, money
from views.port import Changed, ClientPort, ServerRefused

DEBOUNCE_SECONDS = 0.5
CHART_HEIGHT = 260
WATCHED = frozenset({"appointment", "staff", "service"})

BY_LABELS: dict[reports.By, str] = {
    "day": "Day", "week": "Week", "month": "Month", "therapist": "Therapist",
    "service": "Service",
}
# the ranges offered: key -> (words, days back from today, or None for all time)
RANGES: dict[str, tuple[str, int | None]] = {
    "7": ("Last 7 days", 7), "30": ("Last 30 days", 30), "90": ("Last 90 days", 90),
    "365": ("Last 12 months", 365), "all": ("All time", None),
}
METHOD_COLORS = {
    "cash": ft.Colors.GREEN_600, "gcash": ft.Colors.BLUE_600,
    "bank_transfer": ft.Colors.DEEP_PURPLE_400, "card": ft.Colors.ORANGE_700,
}

# (file name, bytes) -> saved; the page's default is the FilePicker's save dialog
Save = Callable[[str, bytes], Awaitable[None]]


def span(key: str, today: date) -> tuple[str | None, str | None]:
    """The dates a range key covers, inclusive, ending today."""
    days = RANGES[key][1]
    if days is None:
        return None, None
    return (today - timedelta(days=days - 1)).isoformat(), today.isoformat()


def pesos(centavos: int) -> str:
    return money(centavos / 100)


def short_label(row: reports.Row, by: reports.By) -> str:
    """A bar's label under the chart: short enough for 12 bars side by side."""
    if by == "day":
        return date.fromisoformat(row.key).strftime("%d %b")
    if by == "week":
        return date.fromisoformat(row.key).strftime("%d %b")
    if by == "month":
        return date.fromisoformat(row.key + "-01").strftime("%b %y")
    words = row.label.split()
    return words[0][:10] if words else row.label[:10]


class ReportsPage:
    def __init__(self, page: ft.Page, client: ClientPort, *,
                 today: Callable[[], date] | None = None, save: Save | None = None,
                 debounce: float | None = None) -> None:
        self.page = page
        self.redraw = SoonRedraw(
            page, self.refresh, DEBOUNCE_SECONDS if debounce is None else debounce
        )
        self.client = client
        self.today = today or clock.today
        self.save = save or self._save_with_picker
        self.by: reports.By = "day"
        self.range = "30"
        self.picker: ft.FilePicker | None = None
        self.by_choice = ft.Dropdown(
            label="Sales by", value=self.by, width=180,
            options=[ft.DropdownOption(key=k, text=v) for k, v in BY_LABELS.items()],
            on_select=self._choose_by,
        )
        self.range_choice = ft.Dropdown(
            label="Period", value=self.range, width=200,
            options=[ft.DropdownOption(key=k, text=v[0]) for k, v in RANGES.items()],
            on_select=self._choose_range,
        )
        self.export = ft.Button("Export CSV", icon=ft.Icons.DOWNLOAD, on_click=self._export)
        self.summary = ft.Column(spacing=6)
        self.chart = ft.Column(spacing=8)
        self.table = ft.Column(spacing=0)
        self.root = ft.Semantics(
            identifier="reports-page",
            container=True,
            content=ft.Column(
                [
                    ft.Row([ft.Semantics(identifier="reports-by", container=True,
                                         content=self.by_choice),
                            ft.Semantics(identifier="reports-range", container=True,
                                         content=self.range_choice),
                            self.export], wrap=True,
                           spacing=12, vertical_alignment=ft.CrossAxisAlignment.CENTER),
                    ft.Semantics(identifier="reports-summary", container=True,
                                 content=self.summary),
                    ft.Semantics(identifier="reports-chart", container=True,
                                 content=self.chart),
                    ft.Semantics(identifier="reports-table", container=True,
                                 content=self.table),
                ],
                spacing=16,
                scroll=ft.ScrollMode.AUTO,
            ),
        )
        self.render()

    # ---- what is shown
    def figures(self) -> tuple[list[reports.Row], reports.Row]:
        snap = self.client.view()
        start, end = span(self.range, self.today())
        found = reports.sales(snap.all("appointment"), start, end)
        rows = reports.report(self.by, found, snap.all("staff"), snap.all("service"))
        return rows, reports.totals(found)

    def render(self) -> None:
        rows, total = self.figures()
        self.summary.controls = self._summary(total)
        self.chart.controls = self._chart(rows) if rows else []
        self.table.controls = [self._table(rows, total)] if rows else []

    def _summary(self, total: reports.Row) -> list[ft.Control]:
        words = RANGES[self.range][0].lower()
        if not total.count:
            return [ft.Text(f"No verified payments in the {words}." if self.range != "all"
                            else "No verified payments yet.", italic=True, color=style.MUTED)]
        sessions = f"{total.count} session{'s' if total.count != 1 else ''}"
        chips: list[ft.Control] = [
            ft.Row([ft.Container(width=12, height=12, bgcolor=METHOD_COLORS.get(m, style.MUTED),
                                 border_radius=6),
                    ft.Text(f"{METHOD_LABELS.get(m, m)} {pesos(a)}", size=13)],
                   spacing=6, tight=True)
            for m, a in total.by_method.items() if a
        ]
        return [
            ft.Text(f"{pesos(total.total)} from {sessions}", size=20,
                    weight=ft.FontWeight.BOLD),
            ft.Row(chips, spacing=16, wrap=True),
        ]

    def _chart(self, rows: list[reports.Row]) -> list[ft.Control]:
        shown = rows[-31:] if self.by in ("day", "week", "month") else rows[:12]
        top = max(r.total for r in shown) / 100 or 1
        groups = []
        for i, r in enumerate(shown):
            stack, y = [], 0.0
            for m in PAYMENT_METHODS:
                part = r.by_method.get(m, 0) / 100
                if part:
                    stack.append(fch.BarChartRodStackItem(from_y=y, to_y=y + part,
                                                          color=METHOD_COLORS[m]))
                    y += part
            groups.append(fch.BarChartGroup(x=i, rods=[fch.BarChartRod(
                to_y=r.total / 100, width=28 if len(shown) <= 8 else 16 if len(shown) < 20 else 8,
                stack_items=stack,
                border_radius=2, color=ft.Colors.TRANSPARENT,
                tooltip=f"{r.label}: {pesos(r.total)}")]))
        every = max(1, len(shown) // 8)
        chart = fch.BarChart(
            groups=groups,
            bottom_axis=fch.ChartAxis(
                labels=[fch.ChartAxisLabel(value=i, label=ft.Text(short_label(r, self.by),
                                                                  size=11))
                        for i, r in enumerate(shown) if (len(shown) - 1 - i) % every == 0],
                label_size=28,
            ),
            left_axis=fch.ChartAxis(label_size=64, show_max=False),
            horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.OUTLINE_VARIANT, width=1),
            min_y=0,
            max_y=top * 1.15,
            height=CHART_HEIGHT,
        )
        more = len(rows) - len(shown)
        which = "latest" if self.by in ("day", "week", "month") else "top"
        note = [ft.Text(f"The chart shows the {which} {len(shown)}; the table has all "
                        f"{len(rows)}.", size=12, color=style.MUTED)] if more > 0 else []
        return [chart, *note]

    def _table(self, rows: list[reports.Row], total: reports.Row) -> ft.Control:
        methods = [m for m in total.by_method if total.by_method[m]] or list(PAYMENT_METHODS)

        def line(r: reports.Row, bold: bool = False) -> ft.DataRow:
            weight = ft.FontWeight.BOLD if bold else None
            cells = [r.label, str(r.count), pesos(r.total),
                     *(pesos(r.by_method.get(m, 0)) for m in methods)]
            return ft.DataRow(cells=[ft.DataCell(ft.Text(c, weight=weight)) for c in cells])

        return ft.DataTable(
            columns=[ft.DataColumn(label=ft.Text(BY_LABELS[self.by])),
                     ft.DataColumn(label=ft.Text("Sessions"), numeric=True),
                     ft.DataColumn(label=ft.Text("Total"), numeric=True),
                     *(ft.DataColumn(label=ft.Text(METHOD_LABELS.get(m, m)), numeric=True)
                       for m in methods)],
            rows=[*(line(r) for r in rows), line(total, bold=True)],
        )

    def refresh(self) -> None:
        self.render()
        with contextlib.suppress(RuntimeError):  # not on the page (any more)
            self.root.update()

    # ---- intents
    def _choose_by(self, _: ft.Event[ft.Dropdown]) -> None:
        value = self.by_choice.value
        self.by = next((b for b in BY_LABELS if b == value), "day")
        self.refresh()

    def _choose_range(self, _: ft.Event[ft.Dropdown]) -> None:
        self.range = self.range_choice.value if self.range_choice.value in RANGES else "30"
        self.refresh()

    async def _export(self, _: ft.Event[ft.Button]) -> None:
        start, end = span(self.range, self.today())
        try:
            data = await self.client.sales_csv(self.by, start, end)
        except ServerRefused as exc:
            snack(self.page, f"Can't export the report: {exc.message}", ok=False)
            return
        name = f"sales-by-{self.by}" + (f"-{start}-to-{end}" if start else "") + ".csv"
        await self.save(name, data)

    async def _save_with_picker(self, name: str, data: bytes) -> None:
        if self.picker is None:
            self.picker = ft.FilePicker()
        await self.picker.save_file(dialog_title="Save the sales report", file_name=name,
                                    allowed_extensions=["csv"], src_bytes=data,
                                    file_type=ft.FilePickerFileType.CUSTOM)

    # ---- events
    def changed(self, ch: Changed) -> None:
        if not (ch.reset or any(entity in WATCHED for entity, _ in ch.keys)):
            return
        self.redraw.request()


def reports_section(page: ft.Page, client: ClientPort) -> Section:
    page_ = ReportsPage(page, client)
    page.run_task(clock.watch_day, page_.root, page_.refresh, page_.today)
    return Section("reports", "Reports", ft.Icons.INSERT_CHART, page_.root, page_.changed,
                   short="Sales")


__all__ = ["ReportsPage", "reports_section", "span"]

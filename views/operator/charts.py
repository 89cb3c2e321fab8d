"""The operator's charts: today by status, today's bookings by start hour,
and revenue by day over the last two weeks.

Drawn with flet-charts, whose Flutter side is compiled into flet-web's
prebuilt client (so `main.py`'s web UI renders them with nothing to
register). The numbers come from `views.operator.stats`. A burst of changes
redraws the page once: appointment changes are gathered for
`DEBOUNCE_SECONDS`, and `clock.watch_day` redraws when the day turns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date

import flet as ft
import flet_charts as fch

from domain.records import Record
from domain.status import Status
from views.components import clock, style
from views.components.redraw import SoonRedraw
from views.components.section import Section
from views.operator.stats import by_start_hour, by_status, on_day, revenue_by_day
from views.operator.words import clock_text, money, status_label
from views.port import Changed, ClientPort

DEBOUNCE_SECONDS = 0.5
REVENUE_DAYS = 14
CHART_HEIGHT = 240
BUSINESS_HOURS = (8, 20)  # always shown on the hourly chart, more when booked

# Colours follow the journey: planning amber, on the road blue, in session
# purple, paid green, the way back teal; what fell through red and grey.
STATUS_COLORS: dict[Status, str] = {
    Status.PENDING: ft.Colors.AMBER_400,
    Status.THERAPIST_CONFIRMED: ft.Colors.AMBER_700,
    Status.DRIVER_CONFIRMED: ft.Colors.ORANGE_600,
    Status.IN_PROGRESS: ft.Colors.LIGHT_BLUE_400,
    Status.JOURNEY: ft.Colors.BLUE_600,
    Status.ARRIVED: ft.Colors.INDIGO_400,
    Status.DROPPED_OFF: ft.Colors.DEEP_PURPLE_300,
    Status.SESSION_IN_PROGRESS: ft.Colors.PURPLE_500,
    Status.AWAITING_PAYMENT: ft.Colors.PINK_400,
    Status.PAYMENT_VERIFIED: ft.Colors.LIGHT_GREEN_600,
    Status.COMPLETED: ft.Colors.GREEN_600,
    Status.PICKUP_REQUESTED: ft.Colors.TEAL_300,
    Status.DRIVER_ASSIGNED_PICKUP: ft.Colors.TEAL_500,
    Status.RETURN_JOURNEY: ft.Colors.CYAN_700,
    Status.TRANSPORT_COMPLETED: ft.Colors.GREEN_900,
    Status.REJECTED: ft.Colors.RED_400,
    Status.CANCELLED: ft.Colors.GREY_500,
    Status.AUTO_CANCELLED: ft.Colors.GREY_700,
}


def hour_range(counts: list[int]) -> range:
    """Business hours, widened to every hour that has a booking."""
    booked = [h for h, n in enumerate(counts) if n]
    lo, hi = BUSINESS_HOURS
    return range(min([lo, *booked]), max([hi, *booked]) + 1)


def _card(identifier: str, title: str, body: ft.Control) -> ft.Control:
    return ft.Semantics(
        identifier=identifier,
        container=True,
        col={"xs": 12, "lg": 6},
        content=ft.Card(
            content=ft.Container(
                ft.Column(
                    [ft.Text(title, size=16, weight=ft.FontWeight.BOLD), body],
                    spacing=12,
                ),
                padding=16,
            )
        ),
    )


class ChartsPage:
    def __init__(
        self,
        page: ft.Page,
        client: ClientPort,
        today: Callable[[], date] | None = None,
        debounce: float | None = None,
    ) -> None:
        self.page = page
        self.redraw = SoonRedraw(
            page, self.refresh, DEBOUNCE_SECONDS if debounce is None else debounce
        )
        self.client = client
        self.today = today or clock.today
        self.day = self.today()
        self.status_body = ft.Column(spacing=12)
        self.hours_body = ft.Column(spacing=12)
        self.revenue_body = ft.Column(spacing=12)
        self.root = ft.Semantics(
            identifier="charts-page",
            container=True,
            content=ft.ResponsiveRow(
                [
                    _card("chart-status", "Today by status", self.status_body),
                    _card("chart-hours", "Today's bookings by start time", self.hours_body),
                    _card(
                        "chart-revenue",
                        f"Revenue, last {REVENUE_DAYS} days",
                        self.revenue_body,
                    ),
                ],
                spacing=16,
                run_spacing=16,
            ),
        )
        self.render()

    # ---- drawing
    def render(self) -> None:
        self.day = self.today()
        appointments = list(self.client.view().all("appointment"))
        todays = on_day(appointments, self.day)
        self.status_body.controls = self._status(todays)
        self.hours_body.controls = self._hours(by_start_hour(todays))
        self.revenue_body.controls = self._revenue(
            revenue_by_day(appointments, self.day, REVENUE_DAYS)
        )

    def _status(self, todays: list[Record]) -> list[ft.Control]:
        counts = by_status(todays)
        if not counts:
            return [_empty("No appointments today yet.")]
        total = sum(n for _, n in counts)
        pie = fch.PieChart(
            sections=[
                fch.PieChartSection(
                    value=n,
                    color=STATUS_COLORS[s],
                    title=str(n),
                    title_style=ft.TextStyle(color=ft.Colors.WHITE, weight=ft.FontWeight.BOLD),
                    radius=70,
                )
                for s, n in counts
            ],
            center_space_radius=40,
            sections_space=2,
            # a pie in a row needs its own size (a row doesn't bound its children)
            width=CHART_HEIGHT,
            height=CHART_HEIGHT,
        )
        legend = ft.Column(
            [
                ft.Row(
                    [
                        ft.Container(
                            width=12, height=12, bgcolor=STATUS_COLORS[s], border_radius=6
                        ),
                        ft.Text(f"{status_label(s)} — {n}", size=13),
                    ],
                    spacing=8,
                    tight=True,  # as wide as its words: the legend fits beside the pie
                )
                for s, n in counts
            ],
            spacing=4,
        )
        return [
            ft.Text(f"{total} appointment{'s' if total != 1 else ''} today", color=style.MUTED),
            ft.Row([pie, legend], spacing=16, wrap=True),
        ]

    def _hours(self, counts: list[int]) -> list[ft.Control]:
        if not any(counts):
            return [_empty("No bookings today yet.")]
        hours = hour_range(counts)
        top = max(counts)
        chart = fch.BarChart(
            groups=[
                fch.BarChartGroup(
                    x=h,
                    rods=[
                        fch.BarChartRod(
                            to_y=counts[h],
                            width=14,
                            color=ft.Colors.TEAL_400,
                            border_radius=3,
                            tooltip=f"{counts[h]} at {clock_text(f'{h:02d}:00')}",
                        )
                    ],
                )
                for h in hours
            ],
            bottom_axis=fch.ChartAxis(
                labels=[
                    fch.ChartAxisLabel(value=h, label=ft.Text(clock_text(f"{h:02d}:00"), size=11))
                    for h in hours
                    if h % 2 == 0
                ],
                label_size=28,
            ),
            left_axis=fch.ChartAxis(label_size=32, label_spacing=max(1, top // 4)),
            horizontal_grid_lines=fch.ChartGridLines(
                interval=max(1, top // 4), color=ft.Colors.OUTLINE_VARIANT, width=1
            ),
            min_y=0,
            max_y=top + 1,
            height=CHART_HEIGHT,
        )
        busiest = max(hours, key=lambda h: (counts[h], -h))
        return [
            ft.Text(
                f"Busiest: {clock_text(f'{busiest:02d}:00')} with {counts[busiest]}",
                color=style.MUTED,
            ),
            chart,
        ]

    def _revenue(self, days: list[tuple[date, float]]) -> list[ft.Control]:
        total = sum(amount for _, amount in days)
        if not total:
            return [_empty(f"No payments in the last {REVENUE_DAYS} days.")]
        top = max(amount for _, amount in days)
        chart = fch.BarChart(
            groups=[
                fch.BarChartGroup(
                    x=i,
                    rods=[
                        fch.BarChartRod(
                            to_y=amount,
                            width=14,
                            color=ft.Colors.GREEN_600,
                            border_radius=3,
                            tooltip=f"{d.strftime('%a %d %b')}: {money(amount)}",
                        )
                    ],
                )
                for i, (d, amount) in enumerate(days)
            ],
            bottom_axis=fch.ChartAxis(
                labels=[
                    fch.ChartAxisLabel(value=i, label=ft.Text(d.strftime("%d %b"), size=11))
                    for i, (d, _) in enumerate(days)
                    if (len(days) - 1 - i) % 3 == 0  # today and every third day back
                ],
                label_size=28,
            ),
            left_axis=fch.ChartAxis(label_size=56, show_max=False),  # the max is headroom
            horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.OUTLINE_VARIANT, width=1),
            min_y=0,
            max_y=top * 1.15,
            height=CHART_HEIGHT,
        )
        today = days[-1][1] if days else 0.0
        return [
            ft.Text(f"{money(total)} in all · {money(today)} today", color=style.MUTED),
            chart,
        ]

    def refresh(self) -> None:
        self.render()
        with contextlib.suppress(RuntimeError):  # not on the page (any more)
            self.root.update()

    # ---- events
    def changed(self, ch: Changed) -> None:
        if not (ch.reset or any(entity == "appointment" for entity, _ in ch.keys)):
            return
        self.redraw.request()


def _empty(text: str) -> ft.Control:
    return ft.Text(text, italic=True, color=style.MUTED)


def charts_section(page: ft.Page, client: ClientPort) -> Section:
    charts = ChartsPage(page, client)
    page.run_task(clock.watch_day, charts.root, charts.refresh, charts.today)
    return Section("charts", "Charts", ft.Icons.BAR_CHART, charts.root, charts.changed)

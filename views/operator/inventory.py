"""The operator's inventory page: the stock list (low first, with a "Low"
badge), add / edit a material, restock it, its history (who used what on
which appointment, restocks, counts), and the services on offer (add, edit,
switch off).

Every check is the domain's (`domain.stock`'s field checks, the words the
server would answer with), shown under its field; every change is an
ordinary optimistic command, so the list moves at once.
"""

from __future__ import annotations

import contextlib
import uuid
from functools import partial
from typing import Any

import flet as ft

from domain import stock
from domain.records import Record, staff_name
from domain.stock import amount_text, is_active, is_low, stock_text
from domain.times import parse_instant
from views.components import style
from views.components.feedback import refused
from views.components.section import Section
from views.operator.dialogs import checked, form_dialog, number
from views.operator.words import money
from views.port import Changed, ClientPort, Result

WATCHED = frozenset({"material", "stock_move", "service"})
HISTORY_SHOWN = 50  # the newest moves of one material


def stock_order(materials: list[Record]) -> list[Record]:
    """Low first, then by name; materials no longer in use last."""
    return sorted(
        materials,
        key=lambda m: (not is_active(m), not is_low(m), str(m.get("name") or "").lower()),
    )


def move_text(move: Record, snap: Any) -> str:
    """'Ana Reyes used 30 ml for Liza Mendoza, 2026-11-21 10:00', 'Grace
    Villanueva restocked 1,000 ml: Monthly order', 'Stock count: 40 pieces'."""
    material = snap.get("material", str(move.get("material_id"))) or {}
    unit = str(material.get("unit") or "")
    who = staff_name(snap.get("staff", str(move.get("by") or "")))
    size = f"{amount_text(abs(float(move.get('delta') or 0)))} {unit}".strip()
    kind = move.get("kind")
    if kind == "use":
        appt = snap.get("appointment", str(move.get("appointment_id") or ""))
        on = ""
        if appt:
            on = f" for {appt.get('client_name') or 'a client'}, {appt.get('date')} " + str(
                appt.get("start_time") or ""
            )
        text = f"{who} used {size}{on}".rstrip()
    elif kind == "restock":
        text = f"{who} restocked {size}"
    else:
        sign = "+" if float(move.get("delta") or 0) > 0 else "−"
        text = f"{who} counted the stock ({sign}{size})"
    if move.get("note") and kind != "count":
        text += f": {move['note']}"
    return text


def when(move: Record) -> str:
    try:
        return parse_instant(str(move.get("at"))).strftime("%d %b %H:%M")
    except (ValueError, TypeError):
        return ""


class InventoryPage:
    def __init__(self, page: ft.Page, client: ClientPort) -> None:
        self.page = page
        self.client = client
        self.selected: str | None = None
        self.stock = ft.Column(spacing=4)
        self.history = ft.Column(spacing=4)
        self.services = ft.Column(spacing=4)
        self.root = ft.Semantics(
            identifier="inventory-page",
            container=True,
            content=ft.Column(
                [
                    ft.Row(
                        [
                            ft.Text("Stock", size=20, weight=ft.FontWeight.BOLD),
                            ft.FilledTonalButton(
                                "Add material", icon=ft.Icons.ADD, on_click=self._add_material
                            ),
                        ],
                        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                    ),
                    ft.ResponsiveRow(
                        [
                            ft.Semantics(
                                identifier="stock-list",
                                container=True,
                                content=self.stock,
                                col={"xs": 12, "md": 7},
                            ),
                            ft.Semantics(
                                identifier="stock-history",
                                container=True,
                                content=ft.Card(content=ft.Container(self.history, padding=12)),
                                col={"xs": 12, "md": 5},
                            ),
                        ],
                        spacing=16,
                        run_spacing=16,
                    ),
                    ft.Divider(),
                    ft.Row(
                        [
                            ft.Text("Services", size=20, weight=ft.FontWeight.BOLD),
                            ft.FilledTonalButton(
                                "Add service", icon=ft.Icons.ADD, on_click=self._add_service
                            ),
                        ],
                        alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                    ),
                    ft.Semantics(identifier="services-list", container=True, content=self.services),
                ],
                spacing=12,
                scroll=ft.ScrollMode.AUTO,
                expand=True,
            ),
        )
        self.render()

    # ---- rendering
    def render(self) -> None:
        self._render_stock()
        self._render_history()
        self._render_services()

    def changed(self, ch: Changed) -> None:
        if ch.reset or any(entity in WATCHED for entity, _ in ch.keys):
            self.render()
            self._update()

    def _render_stock(self) -> None:
        materials = stock_order(list(self.client.view().all("material")))
        if not materials:
            self.stock.controls = [
                ft.Text(
                    "No materials yet: add what the sessions use.", italic=True, color=style.MUTED
                )
            ]
            return
        self.stock.controls = [self._material_row(m) for m in materials]

    def _material_row(self, m: Record) -> ft.Control:
        mid = m["id"]
        facts: list[ft.Control] = [
            ft.Text(str(m.get("name")), weight=ft.FontWeight.BOLD),
            ft.Text(stock_text(m), color=style.BAD if float(m.get("on_hand") or 0) < 0 else None),
            ft.Text(
                f"reorder at {amount_text(float(m.get('reorder_level') or 0))}",
                color=style.MUTED,
            ),
        ]
        if is_low(m) and is_active(m):
            facts.append(
                ft.Container(
                    ft.Text("Low", color=ft.Colors.WHITE, size=12, weight=ft.FontWeight.BOLD),
                    bgcolor=style.WARN,
                    border_radius=8,
                    padding=ft.Padding(8, 2, 8, 2),
                )
            )
        if not is_active(m):
            facts.append(ft.Text("Not in use", italic=True, color=style.MUTED))

        def history(_: ft.Event[ft.TextButton]) -> None:
            self.selected = mid
            self._render_history()
            self._render_stock()
            self._update()

        def edit(_: ft.Event[ft.TextButton]) -> None:
            self.material_form(m)

        def restock(_: ft.Event[ft.TextButton]) -> None:
            self.restock_form(m)

        return ft.Semantics(
            identifier=f"material-{mid}",
            container=True,
            content=ft.Container(
                ft.Row(
                    [
                        ft.Row(facts, wrap=True, spacing=12, expand=True),
                        ft.TextButton("Restock", on_click=restock),
                        ft.TextButton("Edit", on_click=edit),
                        ft.TextButton("History", on_click=history),
                    ],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
                padding=8,
                border_radius=8,
                bgcolor=ft.Colors.SURFACE_CONTAINER_HIGH if mid == self.selected else None,
            ),
        )

    def _render_history(self) -> None:
        snap = self.client.view()
        m = snap.get("material", self.selected) if self.selected else None
        if m is None:
            self.history.controls = [
                ft.Text(
                    "Choose History on a material to see who used it and the restocks.",
                    italic=True,
                    color=style.MUTED,
                )
            ]
            return
        moves = sorted(
            (x for x in snap.all("stock_move") if x.get("material_id") == m["id"]),
            key=lambda x: (str(x.get("at") or ""), x["id"]),
            reverse=True,
        )
        rows: list[ft.Control] = [
            ft.Text(f"{m.get('name')}: {stock_text(m)}", weight=ft.FontWeight.BOLD)
        ]
        if not moves:
            rows.append(ft.Text("Nothing used or restocked yet.", italic=True, color=style.MUTED))
        for x in moves[:HISTORY_SHOWN]:
            rows.append(
                ft.Semantics(
                    identifier=f"move-{x['id']}",
                    container=True,
                    content=ft.Column(
                        [ft.Text(move_text(x, snap)), ft.Text(when(x), size=12, color=style.MUTED)],
                        spacing=0,
                    ),
                )
            )
        self.history.controls = rows

    def _render_services(self) -> None:
        services = sorted(
            self.client.view().all("service"),
            key=lambda s: (not is_active(s), str(s.get("name") or "").lower()),
        )
        if not services:
            self.services.controls = [ft.Text("No services yet.", italic=True, color=style.MUTED)]
            return
        self.services.controls = [self._service_row(s) for s in services]

    def _service_row(self, s: Record) -> ft.Control:
        sid = s["id"]

        async def switch(e: ft.Event[ft.Switch]) -> None:
            result = await self.client.dispatch(
                "service.update", sid, {"active": bool(e.control.value)}
            )
            self._said(result)

        def edit(_: ft.Event[ft.TextButton]) -> None:
            self.service_form(s)

        return ft.Semantics(
            identifier=f"service-{sid}",
            container=True,
            content=ft.Row(
                [
                    ft.Text(str(s.get("name")), weight=ft.FontWeight.BOLD, expand=True),
                    ft.Text(f"{s.get('minutes')} min"),
                    ft.Text(money(float(s.get("price") or 0))),
                    ft.Switch(label="On offer", value=is_active(s), on_change=switch),
                    ft.TextButton("Edit", on_click=edit),
                ],
                vertical_alignment=ft.CrossAxisAlignment.CENTER,
            ),
        )

    def _said(self, result: Result) -> None:
        refused(self.page, result)
        if not result.ok:
            self.render()
            self._update()

    def _update(self) -> None:
        with contextlib.suppress(RuntimeError):  # not on the page yet
            self.root.update()

    # ---- forms
    def _add_material(self, _: ft.Event[ft.Button]) -> None:
        self.material_form(None)

    def _add_service(self, _: ft.Event[ft.Button]) -> None:
        self.service_form(None)

    def material_form(self, m: Record | None) -> ft.AlertDialog:
        def shown(key: str) -> str:
            value = (m or {}).get(key)
            if isinstance(value, int | float):
                return amount_text(float(value))
            return str(value or "")

        name = ft.TextField(label="Name", value=shown("name"))
        unit = ft.TextField(label="Unit", value=shown("unit"), hint_text="ml, pieces, sets…")
        on_hand = ft.TextField(
            label="On hand" if m is None else "On hand (a stock count)",
            value=shown("on_hand"),
            keyboard_type=ft.KeyboardType.NUMBER,
        )
        level = ft.TextField(
            label="Reorder level",
            value=shown("reorder_level"),
            keyboard_type=ft.KeyboardType.NUMBER,
        )
        active = ft.Switch(label="In use", value=is_active(m) if m else True)
        fields: list[ft.Control] = [name, unit, on_hand, level] + ([active] if m else [])
        marked = {"name": name, "unit": unit, "on_hand": on_hand, "reorder_level": level}

        def collect() -> dict[str, Any] | None:
            args: dict[str, Any] = {
                "name": name.value or "",
                "unit": unit.value or "",
                "on_hand": number(on_hand.value),
                "reorder_level": number(level.value),
            }
            ok = checked(
                (field, partial(stock.material_field, args, key))
                for key, field in marked.items()
            )
            if not ok:
                return None
            if m is not None:
                args["active"] = bool(active.value)
                return {k: val for k, val in args.items() if _differs(m.get(k, True), val)}
            return args

        async def send(args: dict[str, Any]) -> Result:
            if m is None:
                return await self.client.dispatch("material.create", str(uuid.uuid4()), args)
            if not args:
                return Result(ok=True)
            return await self.client.dispatch("material.update", m["id"], args)

        title = "Add a material" if m is None else f"Edit {m.get('name')}"
        return form_dialog(self.page, title, fields, "Save", collect, send, "material-form")

    def restock_form(self, m: Record) -> ft.AlertDialog:
        quantity = ft.TextField(
            label=f"Quantity ({m.get('unit')})", keyboard_type=ft.KeyboardType.NUMBER
        )
        note = ft.TextField(label="Note (optional)", hint_text="Where it came from")

        def collect() -> dict[str, Any] | None:
            args: dict[str, Any] = {"quantity": number(quantity.value)}
            if not checked([(quantity, lambda: stock.restock_quantity(args))]):
                return None
            if (note.value or "").strip():
                args["note"] = (note.value or "").strip()
            return args

        async def send(args: dict[str, Any]) -> Result:
            return await self.client.dispatch("material.restock", m["id"], args)

        return form_dialog(
            self.page,
            f"Restock {m.get('name')}",
            [ft.Text(f"On hand: {stock_text(m)}"), quantity, note],
            "Restock",
            collect,
            send,
            "restock-form",
        )

    def service_form(self, s: Record | None) -> ft.AlertDialog:
        def shown(key: str) -> str:
            value = (s or {}).get(key)
            if isinstance(value, int | float):
                return amount_text(float(value))
            return str(value or "")

        name = ft.TextField(label="Name", value=shown("name"))
        minutes = ft.TextField(
            label="Minutes", value=shown("minutes"), keyboard_type=ft.KeyboardType.NUMBER
        )
        price = ft.TextField(
            label="Price", value=shown("price"), keyboard_type=ft.KeyboardType.NUMBER
        )
        marked = {"name": name, "minutes": minutes, "price": price}

        def collect() -> dict[str, Any] | None:
            args: dict[str, Any] = {
                "name": name.value or "",
                "minutes": number(minutes.value),
                "price": number(price.value),
            }
            ok = checked(
                (field, partial(stock.service_field, args, key))
                for key, field in marked.items()
            )
            if not ok:
                return None
            if s is not None:
                return {k: val for k, val in args.items() if _differs(s.get(k), val)}
            return args

        async def send(args: dict[str, Any]) -> Result:
            if s is None:
                return await self.client.dispatch("service.create", str(uuid.uuid4()), args)
            if not args:
                return Result(ok=True)
            return await self.client.dispatch("service.update", s["id"], args)

        title = "Add a service" if s is None else f"Edit {s.get('name')}"
        return form_dialog(
            self.page, title, [name, minutes, price], "Save", collect, send, "service-form"
        )


def _differs(before: Any, after: Any) -> bool:
    if isinstance(before, int | float) and isinstance(after, int | float):
        return float(before) != float(after)
    return bool(before != after)


def inventory_section(page: ft.Page, client: ClientPort) -> Section:
    inventory = InventoryPage(page, client)
    return Section(
        "inventory",
        "Inventory",
        ft.Icons.INVENTORY_2,
        inventory.root,
        inventory.changed,
        short="Stock",
    )


__all__ = ["InventoryPage", "inventory_section", "move_text", "stock_order"]

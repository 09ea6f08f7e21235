"""One self-contained HTML page: charts (inline SVG) and every table, readable offline.

No script, no font, no stylesheet is fetched: the file can be mailed to the board or opened
on a laptop without network. Written in French, for the association's operators; ids in
the machine formats (CSV, JSON) stay in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from bot.content.catalog import Catalog
from bot.domain.disclosure import CHOICES
from bot.export import charts
from bot.export.layout import Layout
from bot.export.tables import Report, Table

NAMES = {
    "started": "commencées",
    "completed": "allées jusqu'à l'aide",
    "emergency": "numéros d'urgence montrés",
    "group_crisis": "réponses de crise dans les groupes",
    "conversations": "conversations",
    "month": "mois",
    "choice": "réponse",
    "step": "étape",
    "origin": "groupe d'origine",
    "locale": "langue",
    "resource": "ressource",
    "(started)": "(début)",
    "direct": "(en direct, sans groupe)",
    "skipped": "(préfère ne pas répondre)",
    "total": "Total",
}
TITLES = {
    "activity": "Conversations par mois",
    "answers:harassment_kind": "Types de harcèlement",
    "answers:platform": "Plateformes",
    "answers:duration": "Depuis combien de temps",
    "answers:danger": "En danger immédiat ?",
    "answers:role": "Qui écrit ?",
    "answers:age_band": "Tranche d'âge",
    "answers:adult_role": "Adultes : qui écrit ?",
    "answers:trusted_adult": "A pu en parler à un adulte de confiance ?",
    "answers:country": "Hors de France : dans quel pays ?",
    "origin": "Conversations par groupe d'origine",
    "locale": "Conversations par langue",
    "resources": "Ressources d'aide montrées",
}

OFFLINE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
 max-width:1000px;margin:0 auto;padding:1.2rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.8rem 0 .4rem}
.meta{color:#555}.note{background:#f3f6fa;border-left:4px solid #1f5fa8;padding:.5rem .8rem}
svg.chart{width:100%;height:auto;display:block}
table{border-collapse:collapse;margin:.4rem 0 1rem;min-width:18rem}
th,td{border-bottom:1px solid #ddd;padding:.2rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.total td{font-weight:bold;border-top:2px solid #999}
td.hidden{color:#8a8a8a}nav a{margin-right:1rem}form{margin:.6rem 0}
details{margin:.3rem 0 1rem}
.map{overflow-x:auto;margin:.4rem 0 1.2rem}.map svg{max-width:none}
"""


def title_of(table: Table) -> str:
    if table.id in TITLES:
        return TITLES[table.id]
    if table.id.startswith("funnel:"):
        return f"Parcours « {table.group} » : conversations qui passent chaque étape"
    if table.id.startswith("answers:"):
        return f"Réponses : {table.group}"
    return table.title


def table_html(table: Table, k: int, labels: Mapping[str, str]) -> str:
    head = "".join(
        f"<th>{escape(NAMES.get(c, c))}</th>" for c in (table.label_header, *table.columns)
    )
    body = []
    for row in [*table.rows, *([table.total] if table.total else [])]:
        cls = ' class="total"' if row is table.total else ""
        label = labels.get(row.label) or NAMES.get(row.label, row.label)
        cells = "".join(
            f'<td class="hidden">{escape(c.display(k))}</td>'
            if c.hidden
            else f"<td>{escape(c.display(k))}</td>"
            for c in row.cells
        )
        body.append(f"<tr{cls}><td>{escape(label)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _labels(layout: Layout, table: Table) -> dict[str, str]:
    """Row names in words: answers as their buttons read, steps by their text, resources
    by their name (ids only when the flows do not load)."""
    names = {r.label: NAMES[r.label] for r in table.rows if r.label in NAMES}
    for row in table.rows:
        if table.id.startswith(("answers:", CHOICES)):
            found = layout.labels.get((table.group, row.label))
        elif table.id.startswith("funnel:"):
            found = layout.step_names.get((table.group, row.label))
        elif table.id == "resources":
            found = layout.resource_names.get(row.label)
        else:
            found = None
        if found:
            names[row.label] = found
    return names


def _maps(report: Report, layout: Layout, catalog: Catalog) -> list[str]:
    """Each flow's map (``relais graph``) with the conversations that took each arrow, and
    the answers at each of its steps."""
    from bot.export.flowmap import NOT_PUBLISHED, arrow_counts, flow_svg

    parts = [
        "<h2>Les parcours</h2>",
        '<p class="note">Sur chaque flèche, après le texte des boutons : les conversations '
        "qui l'ont prise sur la période, tirées des chiffres publiés (les réponses données à "
        "cette étape de ce parcours, ou l'entonnoir quand tous les boutons mènent au même "
        f"endroit) ; « {NOT_PUBLISHED} » quand aucun mois de la période n'a ce chiffre pour "
        "ce parcours (mois comptés avant que les réponses le soient par parcours).</p>",
    ]
    for flow_id in sorted(catalog.flows):
        counts = arrow_counts(catalog, flow_id, report)
        svg = flow_svg(catalog, flow_id, locale=layout.locale, counts=counts)
        parts.append(f'<div class="map">{svg}</div>')
        steps = report.tables_of(f"{CHOICES}{flow_id}:")
        if steps:
            parts.append("<details><summary>Réponses à chaque étape</summary>")
            for table in steps:
                step = table.id.removeprefix(f"{CHOICES}{flow_id}:")
                name = layout.step_names.get((flow_id, step), step)
                parts += [
                    f"<h3>{escape(name)}</h3>",
                    table_html(table, report.k, _labels(layout, table)),
                ]
            parts.append("</details>")
    return parts


def to_html(
    report: Report,
    layout: Layout | None = None,
    *,
    downloads: Mapping[str, str] | None = None,
    form_action: str | None = None,
    hidden_fields: Mapping[str, str] | None = None,
) -> str:
    """The page. ``downloads`` (label → URL) and ``form_action`` are for the dashboard,
    which serves this same page with links to the CSV/JSON and a date-range form."""
    layout = layout or Layout()
    k = report.k
    parts = [
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        # Opened from a disk, the file has no server to send this header: nothing it
        # contains may load or run anything.
        f'<meta http-equiv="Content-Security-Policy" content="{OFFLINE_CSP}">',
        f"<title>Relais : chiffres du {escape(report.first)} au {escape(report.last)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Relais : ce que voit le bot</h1>",
        f'<p class="meta">Mois de {escape(report.first)} à {escape(report.last)} '
        f"(fuseau {escape(report.timezone)}). Produit le {escape(report.generated_at)}.</p>",
        f'<p class="note">Chiffres anonymes : nombre de conversations, jamais de personne '
        f"(sauf les réponses de crise dans les groupes, comptées une à une), "
        f"comptés par mois entier une fois le mois terminé (le mois en cours n'apparaît pas). "
        f"Dans un mois, tout nombre inférieur à {k} (zéro compris) est affiché « &lt;{k} » ; "
        f"« x » masque un nombre qui permettrait de retrouver un petit nombre à partir des "
        f"autres. Sur plusieurs mois, « 41+ » veut dire « au moins 41 » : la somme des mois "
        f"où le nombre était affiché, sans ceux où il était masqué.</p>",
    ]
    if downloads:
        links = "".join(f'<a href="{escape(u)}">{escape(n)}</a>' for n, u in downloads.items())
        parts.append(f"<nav>Télécharger : {links}</nav>")
    if form_action is not None:
        hidden = "".join(
            f'<input type="hidden" name="{escape(n)}" value="{escape(v)}">'
            for n, v in (hidden_fields or {}).items()
        )
        parts.append(
            f'<form method="get" action="{escape(form_action)}">{hidden}'
            f'Du mois <input type="month" name="from" value="{escape(report.first)}"> '
            f'au mois <input type="month" name="to" value="{escape(report.last)}"> '
            f"<button>Afficher</button></form>"
        )
    activity = report.table("activity")
    parts += [
        f"<h2>{escape(title_of(activity))}</h2>",
        charts.trend(activity, k, NAMES),
        "<details><summary>Tableau</summary>",
        table_html(activity, k, {}),
        "</details>",
    ]
    answers = report.tables_of("answers:")
    first = [t for t in answers if t.group in ("harassment_kind", "platform")]
    for table in [*first, *(t for t in answers if t not in first), *report.tables_of("funnel:")]:
        labels = _labels(layout, table)
        colour = charts.GREEN if table.id.startswith("funnel:") else charts.BLUE
        parts += [
            f"<h2>{escape(title_of(table))}</h2>",
            charts.bars(table, k, labels, colour),
            "<details><summary>Tableau</summary>",
            table_html(table, k, labels),
            "</details>",
        ]
    for table_id in ("origin", "locale", "resources"):
        table = report.table(table_id)
        parts += [
            f"<h2>{escape(title_of(table))}</h2>",
            table_html(table, k, _labels(layout, table)),
        ]
    if layout.catalog is not None:
        parts += _maps(report, layout, layout.catalog)
    parts.append("</body></html>\n")
    return "\n".join(parts)

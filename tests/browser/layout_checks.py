"""What a machine can tell about a page's layout: diagram labels that run into each other or
out of the diagram, a title on too many lines, a table wider than its frame.

Plotly draws every label (annotations, tick labels, a title) as an SVG <text>; two labels
overlap when their bounding boxes intersect by more than a rounding pixel.
"""

from __future__ import annotations

from playwright.sync_api import Page

DIAGRAM = ".st-key-arch_diagram"  # the Architecture page's diagram (its st.plotly_chart key)
BOTTLENECK_METER = ".st-key-bottleneck_meter"  # its numbers per example, layer by layer
TITLE_MAX_LINES = 2  # at 1280x720: a third line pushed the diagram below the fold

# [[text a, text b, overlap width, overlap height], ...] and the labels that leave the
# chart's own SVG (cut off), for the chart under `root`.
LABELS_JS = """(root) => {
  const chart = document.querySelector(root);
  if (!chart) return null;
  const svg = chart.querySelector('.main-svg').getBoundingClientRect();
  const boxes = [...chart.querySelectorAll('svg text')]
    .filter(t => t.textContent.trim() && getComputedStyle(t).visibility !== 'hidden')
    .map(t => [t.textContent.trim(), t.getBoundingClientRect()])
    .filter(([, r]) => r.width > 0 && r.height > 0);
  const overlaps = [], outside = [];
  for (let i = 0; i < boxes.length; i++) {
    const [a, r] = boxes[i];
    if (r.left < svg.left - 1 || r.right > svg.right + 1 || r.top < svg.top - 1
        || r.bottom > svg.bottom + 1) outside.push(a);
    for (let j = i + 1; j < boxes.length; j++) {
      const [b, s] = boxes[j];
      const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
      const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
      if (w > 1 && h > 1) overlaps.push([a, b, Math.round(w), Math.round(h)]);
    }
  }
  return {labels: boxes.length, overlaps, outside};
}"""

# How many lines the page's title takes: its text's fragments grouped by their bottom edge.
TITLE_LINES_JS = """() => {
  const h1 = document.querySelector('[data-testid=stMain] h1');
  if (!h1) return 0;
  const size = parseFloat(getComputedStyle(h1).fontSize);
  const walker = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
  const bottoms = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && !bottoms.some(b => Math.abs(b - r.bottom) < size / 2))
        bottoms.push(r.bottom);
    }
  }
  return bottoms.length;
}"""

# Whether the layer table (the page's first dataframe) shows every column without scrolling.
TABLE_FITS_JS = """() => {
  const scroller = document.querySelector('[data-testid=stMain] [data-testid=stDataFrame] '
                                          + '.dvn-scroller');
  return scroller ? scroller.scrollWidth <= scroller.clientWidth + 1 : null;
}"""


def diagram_label_problems(page: Page, root: str = DIAGRAM) -> list[str]:
    """Labels of the chart under `root` that overlap each other or leave the chart."""
    page.locator(f"{root} g.annotation text").first.wait_for(state="attached")
    page.wait_for_function("""(root) => {  // drawn at its final width: the page has settled
      const svg = document.querySelector(root + ' .main-svg');
      const box = document.querySelector(root);
      return svg && box && Math.abs(svg.getBoundingClientRect().width
                                    - box.getBoundingClientRect().width) < 2;
    }""", arg=root)
    found = page.evaluate(LABELS_JS, root)
    assert found and found["labels"] >= 5, f"no diagram labels found under {root}: {found}"
    return ([f"{a!r} overlaps {b!r} by {w}x{h} px" for a, b, w, h in found["overlaps"]]
            + [f"{a!r} is cut off at the diagram's edge" for a in found["outside"]])


def diagram_hint_problem(page: Page) -> str:
    """'' when the diagram's "scroll sideways" hint shows exactly when the diagram is wider
    than its box (cut off without a word, or a hint with nothing to scroll, is a problem)."""
    box, hint = page.evaluate("""() => {
      const box = document.querySelector('.st-key-diagram_box');
      const hint = document.querySelector('.st-key-diagram_scroll_hint');
      return [[box.scrollWidth, box.clientWidth], hint && hint.checkVisibility()];
    }""")
    wider = box[0] > box[1] + 1
    if wider != bool(hint):
        return (f"the diagram is {box[0]} px wide in a {box[1]} px box, and its scroll hint is "
                f"{'shown' if hint else 'hidden'}")
    return ""


def title_lines(page: Page) -> int:
    """How many lines the page's title wraps to."""
    return page.evaluate(TITLE_LINES_JS)


def layer_table_fits(page: Page) -> bool | None:
    """Whether the layer table (the page's first dataframe) shows all its columns."""
    page.locator("[data-testid=stMain] [data-testid=stDataFrame] .dvn-scroller").first.wait_for(
        state="attached")
    return page.evaluate(TABLE_FITS_JS)

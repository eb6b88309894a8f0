# mk/docs.mk - figures of the documentation, drawn from sources in the tree.
#
#   make docs-figures     redraw docs/*.png from docs/*.dot (graphviz)
#
# The PNGs are committed, so reading the docs needs no graphviz;
# tests/integration/test_doc_10_figures.py checks each source still renders.

DOC_FIGURES := $(patsubst %.dot,%.png,$(wildcard docs/*.dot))

.PHONY: docs-figures
docs-figures: $(DOC_FIGURES)

docs/%.png: docs/%.dot
	dot -Tpng -Gdpi=96 $< -o $@

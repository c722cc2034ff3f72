// Package layout holds only a test: it checks that imports point down
// ({ui, cli} → app → {courier, pep, azure}), as design.md draws them.
package layout

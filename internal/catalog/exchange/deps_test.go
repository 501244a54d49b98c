package exchange_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The package and its tests link no database driver and not the store:
// the drivers' coverage counters slowed every execution of FuzzImportCSV
// several times over when the format lived in catalog, next to the store
// (docs/PERFORMANCE.md).
func TestLinksNoDatabase(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for pkg := range strings.FieldsSeq(string(out)) {
		if strings.Contains(pkg, "sqlite") || strings.Contains(pkg, "pgx") || strings.Contains(pkg, "zwfw/internal/store") {
			t.Errorf("the exchange's tests link %s", pkg)
		}
	}
}

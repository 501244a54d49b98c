package web_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Pages change state only through the domain packages' methods, which
// check the policy, open their transaction and write their audit entry:
// so web imports neither the store nor the job queue (River stays behind
// jobs). Its tests may, to set the scene.
func TestImportsNeitherStoreNorJobs(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for pkg := range strings.FieldsSeq(string(out)) {
		if pkg == "github.com/zwfw/zwfw/internal/store" || pkg == "github.com/zwfw/zwfw/internal/jobs" || strings.Contains(pkg, "riverqueue") {
			t.Errorf("web imports %s", pkg)
		}
	}
}

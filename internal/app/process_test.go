package app_test

import (
	"testing"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/loadgen"
)

// The real binary as its own process is in internal/apptest, which
// internal/reliability shares (the SIGKILL tests are there, beside this
// package in the suite).
var (
	binary        = apptest.Binary
	startProcess  = apptest.Start
	demoAuditKeys = apptest.DemoAuditKeys
	demoChainKeys = apptest.DemoChainKeys
)

// submitters registers n citizens on the demo at c and finds them an item
// to apply for online with two materials.
func submitters(t *testing.T, c *loadgen.Client, n int) ([]loadgen.Applicant, loadgen.Target) {
	t.Helper()
	return apptest.Submitters(t, c, 0, n, "")
}

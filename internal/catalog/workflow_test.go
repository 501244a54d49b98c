package catalog_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog"
)

// The text form of a workflow (spreadsheet cell, editor box) reads back
// as written, in either separator style.
func TestWorkflowText(t *testing.T) {
	text := catalog.FormatWorkflow(catalog.DefaultWorkflow)
	if !strings.Contains(text, "审查:审批人员,部门负责人:60") {
		t.Fatalf("format: %q", text)
	}
	for _, in := range []string{text, strings.ReplaceAll(strings.ReplaceAll(text, "\n", "；"), ",", "、")} {
		got, err := catalog.ParseWorkflow(in)
		if err != nil || !reflect.DeepEqual(got, catalog.DefaultWorkflow) {
			t.Fatalf("parse %q: %+v %v", in, got, err)
		}
	}
	if got, err := catalog.ParseWorkflow("  "); err != nil || got != nil {
		t.Fatalf("blank: %v %v", got, err)
	}
	for in, says := range map[string]string{
		"审查":            "应写成",
		"审查:市长:60":      "角色“市长”无效",
		"审查:审批人员:六十":    "应为整数",
		"受理:窗口人员:1:2:3": "应写成",
	} {
		if _, err := catalog.ParseWorkflow(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v, want %q", in, err, says)
		}
	}
	it := catalog.Item{Workflow: []catalog.WorkStep{{Step: catalog.StepReview, Share: 70}, {Step: catalog.StepDecide, Share: 20}, {Step: catalog.StepComplete, Share: 10}}}
	if got := it.StepShares(); got[catalog.StepReview] != 70 || got[catalog.StepDecide] != 90 || got[catalog.StepComplete] != 100 {
		t.Fatalf("shares: %v", got)
	}
}

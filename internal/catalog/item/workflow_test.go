package item_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/catalog/item"
)

// The text form of a workflow (spreadsheet cell, editor box) reads back
// as written, in either separator style.
func TestWorkflowText(t *testing.T) {
	text := item.FormatWorkflow(item.DefaultWorkflow)
	if !strings.Contains(text, "审查:审批人员,部门负责人:60") {
		t.Fatalf("format: %q", text)
	}
	for _, in := range []string{text, strings.ReplaceAll(strings.ReplaceAll(text, "\n", "；"), ",", "、")} {
		got, err := item.ParseWorkflow(in)
		if err != nil || !reflect.DeepEqual(got, item.DefaultWorkflow) {
			t.Fatalf("parse %q: %+v %v", in, got, err)
		}
	}
	if got, err := item.ParseWorkflow("  "); err != nil || got != nil {
		t.Fatalf("blank: %v %v", got, err)
	}
	for in, says := range map[string]string{
		"审查":            "应写成",
		"审查:市长:60":      "角色“市长”无效",
		"审查:审批人员:六十":    "应为整数",
		"受理:窗口人员:1:2:3": "应写成",
	} {
		if _, err := item.ParseWorkflow(in); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v, want %q", in, err, says)
		}
	}
	it := item.Item{Workflow: []item.WorkStep{{Step: item.StepReview, Share: 70}, {Step: item.StepDecide, Share: 20}, {Step: item.StepComplete, Share: 10}}}
	if got := it.StepShares(); got[item.StepReview] != 70 || got[item.StepDecide] != 90 || got[item.StepComplete] != 100 {
		t.Fatalf("shares: %v", got)
	}
}

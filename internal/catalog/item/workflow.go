package item

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zwfw/zwfw/internal/policy"
)

// The steps a case can go through, in order. 预审 and 送达 are optional; the
// others every item has. 审查, 决定 and 办结 run against the time limit and
// share it.
const (
	StepPrecheck = "预审"
	StepAccept   = "受理"
	StepReview   = "审查"
	StepDecide   = "决定"
	StepComplete = "办结"
	StepDeliver  = "送达"
)

// StepOrder is the order of the steps.
var StepOrder = []string{StepPrecheck, StepAccept, StepReview, StepDecide, StepComplete, StepDeliver}

var requiredSteps = []string{StepAccept, StepReview, StepDecide, StepComplete}

// timedSteps are the steps after acceptance that share the time limit.
var timedSteps = []string{StepReview, StepDecide, StepComplete}

// WorkStep is one step of an item's handling: who acts at it, and the
// share of the time limit it gets (for 审查, 决定, 办结), in percent.
type WorkStep struct {
	Step  string        `json:"step"`
	Roles []policy.Role `json:"roles"`
	Share int           `json:"share,omitempty"`
}

// DefaultWorkflow is the workflow of an item that does not shape its own:
// 预审 → 受理 → 审查 → 决定 → 办结 → 送达. The reviewer reviews and the
// head decides (审查 and 决定 are separate steps): an item that lets the
// reviewer, or the window for an 即办件, decide says so in its workflow.
var DefaultWorkflow = []WorkStep{
	{Step: StepPrecheck, Roles: []policy.Role{policy.Window, policy.Reviewer}},
	{Step: StepAccept, Roles: []policy.Role{policy.Window, policy.Reviewer}},
	{Step: StepReview, Roles: []policy.Role{policy.Reviewer, policy.Head}, Share: 60},
	{Step: StepDecide, Roles: []policy.Role{policy.Head}, Share: 30},
	{Step: StepComplete, Roles: []policy.Role{policy.Window, policy.Reviewer, policy.Head}, Share: 10},
	{Step: StepDeliver, Roles: []policy.Role{policy.Window, policy.Reviewer, policy.Head}},
}

// HandlingSteps is the workflow cases of the item follow.
func (it *Item) HandlingSteps() []WorkStep {
	if len(it.Workflow) == 0 {
		return DefaultWorkflow
	}
	return it.Workflow
}

// Step returns the item's step of that name, if the workflow has it.
func (it *Item) Step(name string) (WorkStep, bool) {
	for _, s := range it.HandlingSteps() {
		if s.Step == name {
			return s, true
		}
	}
	return WorkStep{}, false
}

// StepShares gives, for each timed step, the share of the time limit that
// has run when the step should be done (cumulative percent).
func (it *Item) StepShares() map[string]int {
	out, sum := map[string]int{}, 0
	for _, s := range it.HandlingSteps() {
		if slices.Contains(timedSteps, s.Step) {
			sum += s.Share
			out[s.Step] = sum
		}
	}
	return out
}

// workflowProblems checks a workflow an item shapes for itself.
func workflowProblems(steps []WorkStep) []string {
	if len(steps) == 0 {
		return nil
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	last, share := -1, 0
	have := map[string]bool{}
	for _, s := range steps {
		at := slices.Index(StepOrder, s.Step)
		switch {
		case at < 0:
			bad("办理环节 %q 无效，应为预审、受理、审查、决定、办结或送达", s.Step)
			continue
		case have[s.Step]:
			bad("办理环节“%s”重复", s.Step)
		case at < last:
			bad("办理环节“%s”的顺序不对，应按预审、受理、审查、决定、办结、送达排列", s.Step)
		}
		have[s.Step], last = true, at
		if len(s.Roles) == 0 {
			bad("办理环节“%s”须指定办理角色", s.Step)
		}
		for _, r := range s.Roles {
			if !slices.Contains([]policy.Role{policy.Window, policy.Reviewer, policy.Head}, r) {
				bad("办理环节“%s”的角色 %q 无效，应为窗口人员、审批人员或部门负责人", s.Step, r)
			}
		}
		if s.Share < 0 || s.Share > 100 || s.Share > 0 && !slices.Contains(timedSteps, s.Step) {
			bad("办理环节“%s”的时限占比无效：只有审查、决定、办结分配时限，各为0至100", s.Step)
		}
		share += s.Share
	}
	for _, s := range requiredSteps {
		if !have[s] {
			bad("办理流程缺少“%s”环节", s)
		}
	}
	if share != 100 {
		bad("审查、决定、办结三个环节的时限占比之和应为100%%，现为%d%%", share)
	}
	return errs
}

// FormatWorkflow writes a workflow as people edit it in a spreadsheet
// cell or a text box, a step per line: 环节:角色,角色[:时限占比]. An item
// on the default workflow is written as "".
func FormatWorkflow(steps []WorkStep) string {
	lines := make([]string, len(steps))
	for i, s := range steps {
		roles := make([]string, len(s.Roles))
		for j, r := range s.Roles {
			roles[j] = r.Name()
		}
		lines[i] = s.Step + ":" + strings.Join(roles, ",")
		if s.Share > 0 {
			lines[i] += ":" + strconv.Itoa(s.Share)
		}
	}
	return strings.Join(lines, "\n")
}

// ParseWorkflow reads what FormatWorkflow writes; lines may also be
// separated by "；" or ";", and roles by "、". Blank means the default.
// Whether the steps make a valid workflow is Validate's to say.
func ParseWorkflow(text string) ([]WorkStep, error) {
	var out []WorkStep
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ';' || r == '；' }) {
		line = strings.TrimSpace(strings.ReplaceAll(line, "：", ":"))
		if line == "" {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("办理环节“%s”应写成 环节:角色,角色:时限占比，如 审查:审批人员,部门负责人:60", line)
		}
		s := WorkStep{Step: strings.TrimSpace(parts[0])}
		for _, name := range strings.FieldsFunc(parts[1], func(r rune) bool { return r == ',' || r == '、' || r == '，' }) {
			r, ok := roleNamed(strings.TrimSpace(name))
			if !ok {
				return nil, fmt.Errorf("办理环节“%s”的角色“%s”无效，应为窗口人员、审批人员或部门负责人", s.Step, name)
			}
			s.Roles = append(s.Roles, r)
		}
		if len(parts) == 3 {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(parts[2]), "%"))
			if err != nil {
				return nil, fmt.Errorf("办理环节“%s”的时限占比应为整数（百分比）", s.Step)
			}
			s.Share = n
		}
		out = append(out, s)
	}
	return out, nil
}

// roleNamed finds a role by its Chinese name or its code.
func roleNamed(s string) (policy.Role, bool) {
	for _, r := range policy.Roles {
		if s == r.Name() || s == string(r) {
			return r, true
		}
	}
	return "", false
}

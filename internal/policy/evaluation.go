package policy

// Module usage and the self-evaluation (绩效自评, issue 10).

// Resource kinds of usage and the self-evaluation. Both are
// administrators' alone (staffMay has no case for them, and allowed lets
// administrators do everything): usage says which paid-for parts of the
// platform go unused; the self-evaluation scores the whole district and
// its evidence lists every department's late cases and incomplete
// archives, more than a supervisor of one street may see, and its hand
// entries (budget execution, payments, delivery against the contract)
// are the project owner's statements.
const (
	Usage      = "usage"      // View: the counts of use per module and day
	Evaluation = "evaluation" // View: the scores and evidence; Edit: the hand entries; Export: the evidence pack
)

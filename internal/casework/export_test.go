package casework

import "testing"

// SmallVerifyBatches makes VerifyChains check n cases a snapshot for the
// rest of t, so that a test with a few cases crosses batches.
func SmallVerifyBatches(t *testing.T, n int) {
	was := verifyBatch
	verifyBatch = n
	t.Cleanup(func() { verifyBatch = was })
}

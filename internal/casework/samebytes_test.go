package casework

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/calendar"
)

// plainDigest is the state digest as it was first written: each column
// and file name and hash written to the hash on its own. The faster
// stateSum and StateHasher must give the same digest, or every chain
// written before them would stop verifying.
func plainDigest(st caseState) string {
	if Status(st.cols[7]) == Draft {
		st.cols[9] = ""
	}
	files := slices.Clone(st.files)
	slices.SortFunc(files, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	h := sha256.New()
	for _, c := range st.cols {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	for _, f := range files {
		h.Write([]byte(f[0]))
		h.Write([]byte{0})
		h.Write([]byte(f[1]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// A case's states as it goes through its steps, adding materials and
// notices in any order: StateDigest, a StateHasher carried along the
// steps and the digest of the state as Verify reads it back (addFile) all
// give the plain digest.
func TestStateDigestSameAsPlain(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []Status{Draft, Submitted, Reviewing, Decided, Completed, Rejected}
	for round := range 200 {
		c := Case{ID: int64(round + 1), Number: fmt.Sprintf("410411202611%06d", round), ItemID: rng.Int64N(2000), ItemVersion: rng.IntN(5),
			ApplicantID: rng.Int64N(1e6), DepartmentID: rng.Int64N(90), RegionCode: "410411001000", Channel: "online"}
		if rng.IntN(3) == 0 {
			c.EnterpriseID = rng.Int64N(1000)
		}
		form := `{"name":"张三","idcard":{"sealed":"v1.k1.` + strings.Repeat("x", rng.IntN(2000)) + `"}}`
		var h StateHasher
		var mats []Material
		var docs []Document
		for step, st := range statuses[:1+rng.IntN(len(statuses))] {
			c.Status = st
			c.Corrections, c.Transfers = rng.IntN(3), rng.IntN(2)
			if step > 1 {
				c.AcceptedOn = calendar.DateOf(time.Date(2026, 11, step, 0, 0, 0, 0, time.UTC))
				c.DueOn = c.AcceptedOn.AddDays(20)
			}
			for range rng.IntN(3) {
				m := Material{Position: rng.IntN(6), SHA256: strings.Repeat(strconv.Itoa(rng.IntN(10)), 64)}
				mats = append(mats, m)
				h.AddMaterial(m)
			}
			if rng.IntN(2) == 0 {
				d := Document{Number: fmt.Sprintf("湛民受字〔2026〕%d号", rng.IntN(1000)), Body: strings.Repeat("通知书正文。", 1+rng.IntN(200))}
				docs = append(docs, d)
				h.AddDocument(d)
			}
			want := plainDigest(stateOf(c, form, mats, docs))
			read := caseState{cols: stateCols(c, form)}
			for _, m := range slices.Backward(mats) {
				read.addFile("m", m.Position, "", m.SHA256)
			}
			for _, d := range docs {
				read.addFile("d", 0, d.Number, d.Body)
			}
			if got := StateDigest(c, form, mats, docs); got != want {
				t.Fatalf("round %d step %d: StateDigest %s, plain %s", round, step, got, want)
			}
			if got := h.Digest(c, form); got != want {
				t.Fatalf("round %d step %d: StateHasher %s, plain %s", round, step, got, want)
			}
			if got := read.digest(); got != want {
				t.Fatalf("round %d step %d: as read %s, plain %s", round, step, got, want)
			}
		}
	}
}

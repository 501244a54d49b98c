package casework

import (
	"context"
	"strings"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/policy"
)

// ArchiveStatus is one finished case in the archive completeness
// manifest of the self-evaluation (绩效自评): whether its archive is
// complete, what it lacks, and the hash of the last event of its chain,
// which commits to the case's whole record as it was checked.
type ArchiveStatus struct {
	Supervised
	Complete bool
	Missing  []string
	Head     string // the hash of the case's last event
}

// ArchiveManifest checks the archive of every finished case (办结 or
// 不予受理) in f that who may follow up, the earliest finished first, and calls
// each with it. Unlike IncompleteArchives it lists complete archives too,
// so that an evaluator can count them and check each against the chain.
// It reads the cases a batch at a time, as IncompleteArchives does.
func (s *Service) ArchiveManifest(ctx context.Context, who policy.Subject, f SupervisionFilter, each func(ArchiveStatus) error) error {
	var c conds
	if err := c.supervision(who, f); err != nil {
		return err
	}
	c.add(`c.status IN ('completed', 'delivered', 'rejected')`)
	c.period(`c.updated_at`, f)
	items := map[[2]int64]catalog.Item{}
	var after *Supervised
	for {
		q := c
		if after != nil {
			q.add(`(c.updated_at > ? OR c.updated_at = ? AND c.id > ?)`, after.UpdatedAt, after.UpdatedAt, after.ID)
		}
		batch, err := s.finishedBatch(ctx, q, `c.updated_at, c.id`)
		if err != nil || len(batch) == 0 {
			return err
		}
		heads, err := s.heads(ctx, batch)
		if err != nil {
			return err
		}
		for i := range batch {
			b := &batch[i]
			key := [2]int64{b.c.ItemID, int64(b.c.ItemVersion)}
			it, ok := items[key]
			if !ok {
				if it, err = s.catalog.Version(ctx, b.c.ItemID, b.c.ItemVersion); err != nil {
					return err
				}
				items[key] = it
			}
			gaps := archiveGaps(b.c, it, b.mats, b.docs, b.events)
			if err := each(ArchiveStatus{Supervised: b.row.Supervised, Complete: len(gaps) == 0, Missing: gaps, Head: heads[b.c.ID]}); err != nil {
				return err
			}
		}
		if len(batch) < archiveBatch {
			return nil
		}
		after = &batch[len(batch)-1].row.Supervised
	}
}

// heads reads the hash of the last event of each case of batch.
func (s *Service) heads(ctx context.Context, batch []finished) (map[int64]string, error) {
	ids := make([]any, len(batch))
	for i, b := range batch {
		ids[i] = b.c.ID
	}
	in := `(?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	rows, err := s.db.Read().Query(ctx, `SELECT e.case_id, e.hash FROM case_events e
		WHERE e.case_id IN `+in+` AND e.seq = (SELECT MAX(seq) FROM case_events WHERE case_id = e.case_id)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return nil, err
		}
		out[id] = hash
	}
	return out, rows.Err()
}

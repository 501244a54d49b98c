package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/zwfw/zwfw/internal/chainhash"
	"github.com/zwfw/zwfw/internal/store"
)

// ChainHead is the end of one chain: how many entries it had and the hash
// of the last.
type ChainHead struct {
	Count int    `json:"count"`
	Hash  string `json:"hash"`
}

// Checkpoint anchors the chains: the audit log's head and every case's,
// signed with the chain key and kept apart from the database (a file), so
// that what a chain alone cannot show — its last entries deleted, or the
// whole of it with its case — shows against the latest checkpoint.
type Checkpoint struct {
	At    time.Time            `json:"at"`
	Log   ChainHead            `json:"audit_log"` // Count is the last entry's id
	Cases map[string]ChainHead `json:"cases"`     // by 办件编号
	MAC   string               `json:"mac"`
}

func (c Checkpoint) parts() []string {
	parts := []string{c.At.UTC().Format(time.RFC3339Nano), strconv.Itoa(c.Log.Count), c.Log.Hash, strconv.Itoa(len(c.Cases))}
	numbers := make([]string, 0, len(c.Cases))
	for n := range c.Cases {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		parts = append(parts, n, strconv.Itoa(c.Cases[n].Count), c.Cases[n].Hash)
	}
	return parts
}

// LogHead is the audit log's last entry.
func LogHead(ctx context.Context, q store.Querier) (ChainHead, error) {
	var h ChainHead
	var id int64
	err := q.QueryRow(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&id, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return ChainHead{}, nil
	}
	h.Count = int(id)
	return h, err
}

// Sign seals c with the active chain key; keys must be set.
func (c *Checkpoint) Sign(keys *chainhash.Keys) { c.MAC = keys.Sum(c.parts()...) }

// ParseCheckpoint reads a checkpoint and checks its signature.
func ParseCheckpoint(b []byte, keys *chainhash.Keys) (Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("检查点文件无法读取：%w", err)
	}
	if ok, keyed := keys.Check(c.MAC, c.parts()...); !ok || !keyed {
		return c, errors.New("检查点文件的签名不符（被修改或不是用此密钥签署的）")
	}
	return c, nil
}

// Against compares the chains' heads now with an earlier checkpoint and
// says what was lost since: each missing case or case with fewer events,
// and audit entries deleted. Chains only grow, so anything shorter (or
// the same length with another head) was tampered with.
func (c Checkpoint) Against(ctx context.Context, q store.Querier, now Checkpoint) ([]string, error) {
	var lost []string
	if c.Log.Count > 0 {
		var hash string
		err := q.QueryRow(ctx, `SELECT hash FROM audit_log WHERE id = ?`, c.Log.Count).Scan(&hash)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			lost = append(lost, fmt.Sprintf("审计日志第 %d 条（检查点时的最后一条）已不存在：记录被删除", c.Log.Count))
		case err != nil:
			return nil, err
		case hash != c.Log.Hash:
			lost = append(lost, fmt.Sprintf("审计日志第 %d 条与检查点不符：记录被改写", c.Log.Count))
		}
	}
	numbers := make([]string, 0, len(c.Cases))
	for n := range c.Cases {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		was, is := c.Cases[n], now.Cases[n]
		switch {
		case is.Count == 0:
			lost = append(lost, fmt.Sprintf("办件 %s：检查点时有 %d 个事件，现在办件或其全部事件已不存在（被删除）", n, was.Count))
		case is.Count < was.Count:
			lost = append(lost, fmt.Sprintf("办件 %s：检查点时有 %d 个事件，现在只有 %d 个（事件被删除）", n, was.Count, is.Count))
		case is.Count == was.Count && is.Hash != was.Hash:
			lost = append(lost, fmt.Sprintf("办件 %s：最后一个事件与检查点不符（被改写）", n))
		}
	}
	return lost, nil
}

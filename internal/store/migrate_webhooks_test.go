package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// Migration 0033 moves webhook subscriptions from the key they were made
// for to its API client, on each database: a client's key gives its
// client; keys of no client get one per holder, revoked when all of its
// keys were; a subscription of a revoked key stays paused; deliveries and
// attempts keep their ids.
func TestWebhooksMoveToClients(t *testing.T) {
	for name, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, url(t), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, 32); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
			err = db.Tx(ctx, func(tx *store.Tx) error {
				for _, q := range []struct {
					sql  string
					args []any
				}{
					{`INSERT INTO api_clients (name, per_minute, created_at) VALUES ('市政务服务平台', 600, ?)`, []any{now}},
					{`INSERT INTO api_keys (id, name, client, prefix, key_hash, scopes, created_by, created_at, revoked_at, client_id)
						VALUES (1, '主密钥', '市政务服务平台', 'p1', 'h', 'results.read', '管理员', ?, NULL, 1)`, []any{now}},
					{`INSERT INTO api_keys (id, name, client, prefix, key_hash, scopes, created_by, created_at, revoked_at)
						VALUES (2, '新密钥', '12345 热线', 'p2', 'h', 'open311', '管理员', ?, NULL)`, []any{now}},
					{`INSERT INTO api_keys (id, name, client, prefix, key_hash, scopes, created_by, created_at, revoked_at)
						VALUES (3, '旧密钥', '12345 热线', 'p3', 'h', 'open311', '管理员', ?, ?)`, []any{now.Add(-time.Hour), now}},
					{`INSERT INTO api_keys (id, name, client, prefix, key_hash, scopes, created_by, created_at, revoked_at)
						VALUES (4, '停用', '旧系统', 'p4', 'h', 'open311', '管理员', ?, ?)`, []any{now, now}},
					{`INSERT INTO api_keys (id, name, client, prefix, key_hash, scopes, created_by, created_at)
						VALUES (5, '无订阅', '别的单位', 'p5', 'h', 'open311', '管理员', ?)`, []any{now}},
				} {
					if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
						return err
					}
				}
				for id := int64(1); id <= 4; id++ {
					if _, err := tx.Exec(ctx, `INSERT INTO webhook_subscriptions (id, key_id, url, events, secret, secret_version, active,
						created_by, created_at, updated_at) VALUES (?, ?, 'https://example.com/h', 'case.accepted', 's', 1, ?, '管理员', ?, ?)`,
						id, id, true, now, now); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `INSERT INTO webhook_events (id, public_id, type, body, created_at) VALUES (7, 'evt_1', 'case.accepted', '{}', ?)`, now); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, event_id, state, attempts, created_at)
					VALUES (9, 2, 7, 'delivered', 1, ?)`, now); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (id, delivery_id, attempt, at, status, latency_ms, error) VALUES (11, 9, 1, ?, 200, 5, '')`, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			type row struct {
				client  string
				revoked bool
				active  bool
			}
			want := map[int64]row{1: {"市政务服务平台", false, true}, 2: {"12345 热线", false, true}, 3: {"12345 热线", false, false},
				4: {"旧系统", true, false}}
			for id, w := range want {
				var got row
				var revoked *time.Time
				if err := db.Read().QueryRow(ctx, `SELECT c.name, c.revoked_at, s.active FROM webhook_subscriptions s JOIN api_clients c ON c.id = s.client_id
					WHERE s.id = ?`, id).Scan(&got.client, &revoked, &got.active); err != nil {
					t.Fatalf("subscription %d: %v", id, err)
				}
				got.revoked = revoked != nil
				if got != w {
					t.Errorf("subscription %d: %+v, want %+v", id, got, w)
				}
			}
			var clients, linked, attempts int
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM api_clients`).Scan(&clients); err != nil || clients != 3 {
				t.Errorf("%d clients, %v", clients, err)
			}
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM api_keys WHERE client_id IS NOT NULL`).Scan(&linked); err != nil || linked != 4 {
				t.Errorf("%d keys with a client, %v", linked, err)
			}
			if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
				WHERE a.id = 11 AND d.id = 9 AND d.subscription_id = 2`).Scan(&attempts); err != nil || attempts != 1 {
				t.Errorf("the delivery and its attempt: %d, %v", attempts, err)
			}
			if db.Dialect == store.SQLite {
				rows, err := db.Read().Query(ctx, `PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				if rows.Next() {
					t.Error("foreign keys broken after the rebuild")
				}
			}
		})
	}
}

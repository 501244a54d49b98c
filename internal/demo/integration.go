package demo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// Demo API clients (integration, issue 12): the market regulator's own
// business system, which reports its department's case steps and
// results, and the city's platform, which takes applications for people,
// reads results, follows complaints and gathers ratings (and receives
// every event: SeedWebhook).
const (
	MarketClient   = "区市场监管局业务系统"
	PlatformClient = "市政务服务平台"
)

// IntegrationKey is a demo client's key, made afresh at each start.
type IntegrationKey struct {
	Client string
	Key    string
}

// SeedIntegration registers the two demo clients with their directory
// entries (once), revokes the keys it made for them before, makes new
// ones, and — when it registered them — logs a few catalog reads, so that
// the access log's page has something to show.
func SeedIntegration(ctx context.Context, svc *integration.Service, regions *region.Store, db *store.DB) ([]IntegrationKey, error) {
	depts, err := regions.Departments(ctx, region.DepartmentFilter{Query: "市场监督管理局"})
	if err != nil || len(depts) == 0 {
		return nil, fmt.Errorf("the demo district has no 市场监督管理局: %v", err)
	}
	market := depts[0].ID
	type client struct {
		c      integration.Client
		scopes []string
		grants []integration.Grant
	}
	clients := []client{
		{integration.Client{Name: MarketClient, DepartmentID: market, PerMinute: 600},
			[]string{policy.ScopeCatalogRead, policy.ScopeCasesStatus, policy.ScopeResultsAttach, policy.ScopeResultsRead},
			[]integration.Grant{{Data: integration.DataCatalog, DepartmentID: market, Purpose: "核对本部门事项的办事指南"},
				{Data: integration.DataCases, DepartmentID: market, Purpose: "本部门业务系统办理网上申请"},
				{Data: integration.DataResults, DepartmentID: market, Purpose: "回传营业执照等办理结果"}}},
		{integration.Client{Name: PlatformClient, PerMinute: 1200},
			[]string{policy.ScopeCatalogRead, policy.ScopeCasesCreate, policy.ScopeResultsRead, policy.ScopeComplaints, policy.ScopeRatings},
			[]integration.Grant{{Data: integration.DataCatalog, DepartmentID: market, Purpose: "市平台展示区级事项"},
				{Data: integration.DataCases, DepartmentID: market, Purpose: "市平台受理的申请转区办理、查询进度"},
				{Data: integration.DataResults, DepartmentID: market, Purpose: "市平台向申请人送达办理结果"},
				{Data: integration.DataComplaints, Purpose: "市 12345 热线督办诉求办理"},
				{Data: integration.DataRatings, Purpose: "汇总好差评数据报送省平台"}}},
	}
	var out []IntegrationKey
	for _, cl := range clients {
		c, err := svc.ClientByName(ctx, builder, cl.c.Name)
		created := false
		if apperr.Is(err, apperr.NotFound) {
			if c, err = svc.CreateClient(ctx, builder, demoMeta, cl.c); err != nil {
				return nil, err
			}
			for _, g := range cl.grants {
				g.ClientID = c.ID
				if _, err := svc.AddGrant(ctx, builder, demoMeta, g); err != nil {
					return nil, err
				}
			}
			created = true
		} else if err != nil {
			return nil, err
		}
		if c.Revoked() { // revoked on the admin page of an earlier start: it stays so
			continue
		}
		old, err := svc.Keys(ctx, builder, c.ID)
		if err != nil {
			return nil, err
		}
		for _, k := range old {
			if !k.Revoked() {
				if err := svc.RevokeKey(ctx, builder, demoMeta, strconv.FormatInt(k.ID, 10)); err != nil {
					return nil, err
				}
			}
		}
		_, raw, err := svc.IssueKey(ctx, builder, demoMeta, c.ID, "演示密钥", cl.scopes)
		if err != nil {
			return nil, err
		}
		out = append(out, IntegrationKey{Client: c.Name, Key: raw})
		if created {
			if err := demoReads(ctx, svc, db, raw, market); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// demoReads reads a few of the regulator's items with the key, through
// the same checks and log as a real call.
func demoReads(ctx context.Context, svc *integration.Service, db *store.DB, key string, dept int64) error {
	rows, err := db.Read().Query(ctx, `SELECT id FROM items WHERE department_id = ? AND status = 'published' ORDER BY id LIMIT 3`, dept)
	if err != nil {
		return err
	}
	var list []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		list = append(list, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range list {
		call, err := svc.Begin(ctx, key, "同步办事指南", "GET /api/v1/integration/items/{id}", policy.ScopeCatalogRead)
		if err != nil {
			return err
		}
		if err := call.Allow(ctx, integration.DataCatalog, dept); err != nil {
			return err
		}
		call.Touch("item:" + strconv.FormatInt(id, 10))
		if err := call.Finish(ctx, 200, nil); err != nil {
			return err
		}
	}
	return nil
}

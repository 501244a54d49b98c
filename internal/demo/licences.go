package demo

import (
	"context"

	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/store"
)

// 电子证照 (e-licences, issue 12): templates on a few items, so that the
// demo's cases completed with approval issue licences through the real
// step, and one licence revoked.

// licenceTemplates are the demo's templates, by the item's 基本编码 and name.
var licenceTemplates = []struct {
	code, name string
	t          licence.Template
}{
	{"010020000101", "个体工商户设立登记", licence.Template{TypeName: "营业执照", NumberFormat: "ZHGT{year}{seq}",
		Fields: []licence.FieldMap{{Label: "名称", Key: "trade_name"}, {Label: "组成形式", Key: "org_form"},
			{Label: "经营场所", Key: "premises"}, {Label: "经营范围", Key: "business_scope"}}}},
	{"010020000401", "食品经营许可（新办）", licence.Template{TypeName: "食品经营许可证", NumberFormat: "JY1410411{year}{seq}", ValidYears: 5,
		Fields: []licence.FieldMap{{Label: "法定代表人", Key: "legal_rep"}, {Label: "经营场所", Key: "premises"}, {Label: "主体业态", Key: "business_form"}}}},
	{"010020000700", "食品小经营店登记", licence.Template{TypeName: "河南省食品小经营店登记证", NumberFormat: "XJYD{year}{seq}", ValidYears: 3,
		Fields: []licence.FieldMap{{Label: "店名", Key: "shop_name"}, {Label: "经营场所", Key: "premises"}, {Label: "类别", Key: "shop_type"}}}},
}

// SeedLicenceTemplates sets the demo's licence templates on their items
// where they have none, and says how many it set.
func SeedLicenceTemplates(ctx context.Context, db *store.DB, licences *licence.Service) (int, error) {
	made := 0
	for _, lt := range licenceTemplates {
		var id int64
		if err := db.Read().QueryRow(ctx, `SELECT id FROM items WHERE base_code = ? AND name = ? ORDER BY id LIMIT 1`, lt.code, lt.name).Scan(&id); err != nil {
			return made, err
		}
		if _, found, err := licences.Template(ctx, id); err != nil || found {
			if err != nil {
				return made, err
			}
			continue
		}
		t := lt.t
		t.ItemID = id
		if err := licences.SaveTemplate(ctx, builder, demoMeta, t); err != nil {
			return made, err
		}
		made++
	}
	return made, nil
}

// SeedLicenceRevocation revokes the demo's first licence, as its
// department would on finding the shop closed, unless one is revoked.
func SeedLicenceRevocation(ctx context.Context, db *store.DB, licences *licence.Service) error {
	var id int64
	err := db.Read().QueryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM licences WHERE NOT EXISTS (SELECT 1 FROM licences WHERE revoked_at IS NOT NULL)`).Scan(&id)
	if err != nil || id == 0 {
		return err
	}
	return licences.Revoke(ctx, builder, demoMeta, id, licence.Cancelled, "经营者已歇业，依申请注销")
}

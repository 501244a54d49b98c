package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/store"
)

// items.json holds real common items of a Chinese district as templates:
// a district-scope template is one item of one bureau; a street- or
// community-scope template is implemented by every street centre or
// community station, as in a real three-level catalog.
//
//go:embed data/items.json
var itemsJSON []byte

//go:embed data/synonyms.json
var synonymsJSON []byte

type itemTemplate struct {
	catalog.Item
	Scope string `json:"scope"` // district, street, community
}

// catalogActor is who the demo catalog's history says made it.
const catalogActor = "演示数据"

// SeedCatalog publishes the demo catalog and its search synonyms unless
// the database already has items. One transaction: all or nothing.
func SeedCatalog(ctx context.Context, db *store.DB, clk clock.Clock) (int, error) {
	var file struct {
		Templates []itemTemplate `json:"templates"`
	}
	if err := json.Unmarshal(itemsJSON, &file); err != nil {
		return 0, fmt.Errorf("demo items: %w", err)
	}
	var syn struct {
		Synonyms map[string][]string `json:"synonyms"`
	}
	if err := json.Unmarshal(synonymsJSON, &syn); err != nil {
		return 0, fmt.Errorf("demo synonyms: %w", err)
	}
	regions := region.NewStore(db)
	items := catalog.NewStore(db, regions, clk)
	streets, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.StreetCenter})
	if err != nil {
		return 0, err
	}
	stations, err := regions.Departments(ctx, region.DepartmentFilter{Kind: region.CommunityStation})
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.Tx(ctx, func(tx *store.Tx) error {
		var existing int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM items`).Scan(&existing); err != nil {
			return err
		}
		if existing > 0 {
			return nil
		}
		for term, exps := range syn.Synonyms {
			if err := items.SetSynonyms(ctx, tx, term, exps); err != nil {
				return fmt.Errorf("synonym %s: %w", term, err)
			}
		}
		for _, t := range file.Templates {
			var units []region.Department
			switch t.Scope {
			case "district":
				units = []region.Department{{Slug: t.Department}}
			case "street":
				units = streets
			case "community":
				units = stations
			default:
				return fmt.Errorf("demo item %s: scope %q", t.Name, t.Scope)
			}
			for _, u := range units {
				it := localise(t, u)
				if err := items.Load(ctx, tx, &it, catalogActor); err != nil {
					return fmt.Errorf("demo item %s (%s): %w", t.Name, u.Slug, err)
				}
				if _, err := tx.Exec(ctx, `UPDATE items SET popularity = ? WHERE id = ?`, popularity(t, u), it.ID); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}

// localise makes a template the item of one implementing unit. A street or
// community item is handled at that unit's centre, with its phone.
func localise(t itemTemplate, unit region.Department) catalog.Item {
	it := t.Item
	it.Materials = append([]catalog.Material(nil), t.Materials...)
	if t.Scope == "district" {
		return it
	}
	it.Department = unit.Slug
	if unit.Address != "" {
		it.Place = unit.Name + "（" + unit.Address + "）"
	} else {
		it.Place = unit.Name
	}
	if unit.Phone != "" {
		it.ConsultPhone = unit.Phone
	}
	if it.ComplaintPhone == it.ConsultPhone {
		it.ComplaintPhone = "12345"
	}
	return it
}

// popularity gives demo items a plausible, repeatable demand: items people
// have many names for are the everyday ones, and district items serve the
// whole district where a community item serves one community.
func popularity(t itemTemplate, unit region.Department) int {
	h := fnv.New32a()
	h.Write([]byte(t.BaseCode + unit.Slug))
	p := int(h.Sum32()%100) + 40*len(t.Aliases)
	switch t.Scope {
	case "district":
		p *= 10
	case "street":
		p *= 3
	}
	if strings.Contains(t.Name, "变更") || strings.Contains(t.Name, "注销") {
		p /= 2
	}
	return p
}

// Package catalog is the district's service catalog (办事指南): every
// government service item with its one complete guide (一次性告知), its
// materials and its application form, versioned so that each case records
// the version it was made under.
//
// The item itself, its validation and its quality rules are in catalog/item,
// and the import and export file formats in catalog/exchange, neither of
// which touches the database; this package stores items and applies
// imports. It re-exports item's types and constants (Go aliases them
// exactly), so that the rest of the platform keeps saying catalog.Item;
// item's functions and variables, which Go cannot alias, are used from
// item.
package catalog

import "github.com/zwfw/zwfw/internal/catalog/item"

type (
	Item        = item.Item
	ItemType    = item.ItemType
	CaseKind    = item.CaseKind
	Depth       = item.Depth
	TimeLimit   = item.TimeLimit
	Step        = item.Step
	Fee         = item.Fee
	Result      = item.Result
	Material    = item.Material
	FormField   = item.FormField
	FormSection = item.FormSection
	Status      = item.Status
	Problem     = item.Problem
	WorkStep    = item.WorkStep
)

const (
	Licensing     = item.Licensing
	Confirmation  = item.Confirmation
	PublicService = item.PublicService

	Immediate = item.Immediate
	Promised  = item.Promised

	DepthPublic   = item.DepthPublic
	DepthPrecheck = item.DepthPrecheck
	DepthApply    = item.DepthApply
	DepthFull     = item.DepthFull

	Draft     = item.Draft
	Published = item.Published
	Suspended = item.Suspended
	Cancelled = item.Cancelled

	StepPrecheck = item.StepPrecheck
	StepAccept   = item.StepAccept
	StepReview   = item.StepReview
	StepDecide   = item.StepDecide
	StepComplete = item.StepComplete
	StepDeliver  = item.StepDeliver
)

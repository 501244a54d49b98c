package policy

// 一件事一次办 (internal/bundle): bundles of items a person applies for
// once, and their applications.
const (
	Bundle     = "bundle"      // a bundle's definition: built and published by catalog managers
	BundleCase = "bundle_case" // a person's application to a bundle: theirs alone
)

// bundleCasePersonMay: a person applies to bundles and follows their own
// applications (an enterprise's while acting for it). Staff never see an
// application as a whole (staffBarred): each department handles its part
// as its own case, under the rules for cases.
func bundleCasePersonMay(a Action) bool { return a == View || a == Create }

// bundleStaffMay: catalog managers (of any department: a life event spans
// several) build bundles and publish them; administrators may anyway.
// Citizens read published bundles without asking.
func bundleStaffMay(s Subject, a Action) bool {
	return s.Has(CatalogManager) && (a == View || a == Edit || a == Publish)
}

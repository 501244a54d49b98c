package search
import ("testing";"strings")
func TestDbgCount(t *testing.T) {
	docs := genCatalog(100000)
	n, m := 0, 0
	for _, d := range docs { if strings.Contains(d.Text, "申请")||strings.Contains(d.Name, "申请") { n++ }; if strings.Contains(d.Name, "许可") {m++} }
	ix := Build(docs, Options{})
	t.Log(n, m, len(ix.units))
}

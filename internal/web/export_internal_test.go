package web

// What the external tests need of the export writers.

// Sheet is an export table.
type Sheet = sheet

// WriteCSV and WriteXLSX are the export writers.
var WriteCSV, WriteXLSX = writeCSV, writeXLSX

// SetMaxSheetRows lowers Excel's rows per sheet for a test; the returned
// function restores it.
func SetMaxSheetRows(n int) func() {
	old := maxSheetRows
	maxSheetRows = n
	return func() { maxSheetRows = old }
}

// AssetURL is the template function asset: a static file's hashed address.
var AssetURL = assetURL

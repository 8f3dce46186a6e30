package config

import (
	"bytes"
	"fmt"
	"strings"
)

// envVar is one variable of a dotenv file, with where it was set.
type envVar struct {
	key, val  string
	line, col int
}

// dotenvError is a problem in a dotenv file, at its line and column.
type dotenvError struct {
	line, col int
	msg       string
}

// parseDotenv reads a dotenv file, the format docker compose, foreman and
// the dotenv libraries agree on:
//
//	# a comment
//	KEY=value            # unquoted: trimmed, a " #" starts a comment
//	export KEY=value     # "export " is allowed, and ignored
//	KEY='literal $text'  # single quotes: nothing is expanded or escaped
//	KEY="a\nb ${HOME}"   # double quotes: \n \t \" \\ \$ escapes, ${VAR} expands
//
// A double-quoted value may span lines. Unquoted and double-quoted values
// expand ${VAR} and ${VAR:-default} from lookup (the environment built so
// far, this file's earlier variables included); single-quoted ones do not.
// Every problem is returned, each with its line and column.
func parseDotenv(data []byte, lookup func(string) (string, bool)) ([]envVar, []dotenvError) {
	var vars []envVar
	var errs []dotenvError
	local := map[string]string{}
	look := func(k string) (string, bool) {
		if v, ok := local[k]; ok {
			return v, true
		}
		return lookup(k)
	}
	lines := bytes.Split(data, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		ln := i + 1
		raw := strings.TrimSuffix(string(lines[i]), "\r")
		s := strings.TrimLeft(raw, " \t")
		col := len(raw) - len(s) + 1
		if s == "" || s[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "export "); ok {
			trimmed := strings.TrimLeft(rest, " \t")
			col += len(s) - len(trimmed)
			s = trimmed
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			errs = append(errs, dotenvError{ln, col, fmt.Sprintf("expected KEY=VALUE, got %q", clip(s))})
			continue
		}
		key := strings.TrimRight(s[:eq], " \t")
		if !isEnvName(key) {
			errs = append(errs, dotenvError{ln, col, fmt.Sprintf("invalid variable name %q (use letters, digits and '_', not starting with a digit)", clip(key))})
			continue
		}
		v := strings.TrimLeft(s[eq+1:], " \t")
		vcol := col + len(s) - len(v)
		var val string
		var err string
		switch {
		case strings.HasPrefix(v, "'"):
			end := strings.IndexByte(v[1:], '\'')
			if end < 0 {
				err = "unterminated single-quoted value"
				break
			}
			val = v[1 : 1+end]
			err = trailing(v[2+end:])
		case strings.HasPrefix(v, `"`):
			// It may go on over the next lines.
			text := v[1:]
			var end int
			for end = closingQuote(text); end < 0 && i+1 < len(lines); end = closingQuote(text) {
				i++
				text += "\n" + strings.TrimSuffix(string(lines[i]), "\r")
			}
			if end < 0 {
				err = "unterminated double-quoted value"
				break
			}
			val, err = unescape(text[:end])
			if err == "" {
				val, err = expandVars(val, look, false)
			}
			if err == "" {
				err = trailing(text[end+1:])
			}
		default:
			if c := strings.Index(v, " #"); c >= 0 {
				v = v[:c]
			}
			if c := strings.Index(v, "\t#"); c >= 0 {
				v = v[:c]
			}
			val, err = expandVars(strings.TrimRight(v, " \t"), look, false)
		}
		if err != "" {
			errs = append(errs, dotenvError{ln, vcol, err})
			continue
		}
		local[key] = val
		vars = append(vars, envVar{key: key, val: val, line: ln, col: col})
	}
	return vars, errs
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// trailing checks what follows a closing quote: nothing, or a comment.
func trailing(s string) string {
	s = strings.TrimLeft(s, " \t")
	if s == "" || s[0] == '#' {
		return ""
	}
	return fmt.Sprintf("unexpected %q after the closing quote", clip(s))
}

// closingQuote finds the unescaped '"' that ends a double-quoted value.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unescape(s string) (string, string) {
	if !strings.ContainsRune(s, '\\') {
		return s, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\', '\'':
			b.WriteByte(s[i])
		case '$':
			// Kept as "$$", which expandVars turns into one literal '$'.
			b.WriteString("$$")
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

// expandVars is the one ${...} expansion of the config: dotenv values,
// env: values, cwd: and run:. It replaces ${NAME} with NAME's value and
// ${NAME:-default} with the default when NAME is unset or empty; the
// default is expanded in turn, so ${A:-${B}} is B's value (a brace closes
// the ${ it matches, not the first one inside). A ${NAME} that is unset and
// has no default is left as written, for the shell that may run it
// (`for f in *; do echo ${f}; done` must reach sh intact), and so is $NAME
// without braces and a '$' followed by anything else (a bare '$' too).
//
// shell says where the text goes, the one intended difference:
//   - true, a command (run:): everything not ours is the shell's and left as
//     written: $$ stays $$ (the shell's pid, so $${X} is no reference), and a
//     ${ that is not ${NAME} or ${NAME:-default} (${#arr[@]}, ${x%%.*}) or is
//     never closed stays as it is. It never fails.
//   - false, a value (dotenv, env:, cwd:): no shell reads it after kelpie,
//     so $$ is how to write a literal '$', and a malformed or unterminated
//     ${ is a mistake: the second result says what (empty: none).
func expandVars(s string, lookup func(string) (string, bool), shell bool) (string, string) {
	if !strings.ContainsRune(s, '$') {
		return s, ""
	}
	var b strings.Builder
	if msg := expandInto(&b, s, lookup, shell); msg != "" {
		return "", msg
	}
	return b.String(), ""
}

// expandInto is expandVars writing to b. A default is expanded by a call
// of its own; it can hold no unterminated ${ (closingBrace would not have
// closed the reference around it), so a byte offset is always the text's.
func expandInto(b *strings.Builder, s string, lookup func(string) (string, bool), shell bool) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			if shell {
				b.WriteString("$$")
			} else {
				b.WriteByte('$')
			}
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := closingBrace(s, i+2)
		if end < 0 {
			if shell {
				b.WriteString(s[i:])
				return ""
			}
			return fmt.Sprintf("unterminated ${ at byte %d (write $${ for a literal ${)", i+1)
		}
		inner := s[i+2 : end]
		name, def, hasDef := strings.Cut(inner, ":-")
		if !isEnvName(name) {
			if shell {
				b.WriteString(s[i : end+1])
				i = end
				continue
			}
			return fmt.Sprintf("invalid variable reference ${%s} (${NAME} or ${NAME:-default}; $${ for a literal ${)", clip(inner))
		}
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			if msg := expandInto(b, def, lookup, shell); msg != "" {
				return msg
			}
		default:
			b.WriteString(s[i : end+1])
		}
		i = end
	}
	return ""
}

// closingBrace finds the '}' that closes the ${ whose body starts at from,
// past any ${...} nested in it ($$ is no opening); -1 if there is none.
func closingBrace(s string, from int) int {
	depth := 1
	for j := from; j < len(s); j++ {
		switch {
		case s[j] == '$' && j+1 < len(s) && (s[j+1] == '$' || s[j+1] == '{'):
			if s[j+1] == '{' {
				depth++
			}
			j++
		case s[j] == '}':
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

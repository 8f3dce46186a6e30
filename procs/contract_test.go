package procs_test

import (
	"context"
	"testing"
	"time"

	"github.com/kelpie-dev/kelpie/internal/enginetest"
	"github.com/kelpie-dev/kelpie/procs"
)

// The in-process supervisor keeps the engine contract.
func TestSupervisorKeepsTheEngineContract(t *testing.T) {
	enginetest.Run(t, func(t *testing.T, specs []procs.Spec) procs.Engine {
		s, err := procs.New(procs.Options{Tick: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
		})
		for _, sp := range specs {
			if err := s.Add(sp); err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
}

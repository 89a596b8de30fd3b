package ring

import (
	"testing"

	"pgregory.net/rapid"
)

func TestZeroValue(t *testing.T) {
	var r Ring[int]
	if r.Len() != 0 || r.Cap() != 0 {
		t.Fatalf("zero ring: len %d cap %d", r.Len(), r.Cap())
	}
	if _, ok := r.PopFront(); ok {
		t.Fatal("PopFront on empty ring reported ok")
	}
	if _, ok := r.PopBack(); ok {
		t.Fatal("PopBack on empty ring reported ok")
	}
	if _, ok := r.Front(); ok {
		t.Fatal("Front on empty ring reported ok")
	}
}

func TestWrapAndGrow(t *testing.T) {
	tests := []struct {
		name        string
		prefill     int // pushed then popped, to move head
		push        int
		wantCapMost int
	}{
		{"no wrap", 0, 10, 16},
		{"wrap in place", 10, 16, 16},
		{"grow while wrapped", 10, 40, 64},
		{"exactly full", 0, 16, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Ring[int]
			for i := 0; i < tt.prefill; i++ {
				r.PushBack(-1)
			}
			for i := 0; i < tt.prefill; i++ {
				r.PopFront()
			}
			for i := 0; i < tt.push; i++ {
				r.PushBack(i)
			}
			if r.Cap() > tt.wantCapMost {
				t.Errorf("cap %d, want at most %d", r.Cap(), tt.wantCapMost)
			}
			for i := 0; i < tt.push; i++ {
				if got := r.At(i); got != i {
					t.Fatalf("At(%d) = %d", i, got)
				}
			}
			for i := 0; i < tt.push; i++ {
				if v, ok := r.PopFront(); !ok || v != i {
					t.Fatalf("PopFront = %d, %v; want %d", v, ok, i)
				}
			}
		})
	}
}

func TestPopReleasesReference(t *testing.T) {
	var r Ring[*int]
	x := new(int)
	r.PushBack(x)
	r.PopFront()
	for _, p := range r.buf {
		if p != nil {
			t.Fatal("popped slot still holds a pointer")
		}
	}
}

func TestAtPanicsOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("At(5) on a ring of 1 did not panic")
		}
	}()
	var r Ring[int]
	r.PushBack(1)
	r.At(5)
}

// TestPropRingModel drives a Ring and a plain slice with the same random
// operations and checks that they always agree.
func TestPropRingModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var r Ring[int]
		var model []int
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"PushBack": func(t *rapid.T) {
				r.PushBack(next)
				model = append(model, next)
				next++
			},
			"PushFront": func(t *rapid.T) {
				r.PushFront(next)
				model = append([]int{next}, model...)
				next++
			},
			"PopFront": func(t *rapid.T) {
				v, ok := r.PopFront()
				if ok != (len(model) > 0) {
					t.Fatalf("PopFront ok = %v with model %v", ok, model)
				}
				if ok {
					if v != model[0] {
						t.Fatalf("PopFront = %d, model front %d", v, model[0])
					}
					model = model[1:]
				}
			},
			"PopBack": func(t *rapid.T) {
				v, ok := r.PopBack()
				if ok != (len(model) > 0) {
					t.Fatalf("PopBack ok = %v with model %v", ok, model)
				}
				if ok {
					if v != model[len(model)-1] {
						t.Fatalf("PopBack = %d, model back %d", v, model[len(model)-1])
					}
					model = model[:len(model)-1]
				}
			},
			"Shrink": func(t *rapid.T) { r.Shrink() },
			"Set": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("empty")
				}
				i := rapid.IntRange(0, len(model)-1).Draw(t, "i")
				r.Set(i, next)
				model[i] = next
				next++
			},
			"Clear": func(t *rapid.T) {
				r.Clear()
				model = model[:0]
			},
			"": func(t *rapid.T) {
				if r.Len() != len(model) {
					t.Fatalf("Len = %d, model %d", r.Len(), len(model))
				}
				for i, want := range model {
					if got := r.At(i); got != want {
						t.Fatalf("At(%d) = %d, model %d", i, got, want)
					}
				}
				if f, ok := r.Front(); ok && f != model[0] {
					t.Fatalf("Front = %d, model %d", f, model[0])
				}
			},
		})
	})
}

func BenchmarkPushPop(b *testing.B) {
	var r Ring[*int]
	x := new(int)
	for b.Loop() {
		r.PushBack(x)
		r.PopFront()
	}
}

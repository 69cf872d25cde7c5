package protodec

import (
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"unsafe"
)

const tradeProto = `syntax = "proto3";
package bench;
import "google/protobuf/timestamp.proto";
enum Side { SIDE_UNSPECIFIED = 0; BUY = 1; SELL = 2; }
message Trade {
  string symbol = 1;
  double price = 2;
  int64 qty = 3;
  Side side = 4;
  google.protobuf.Timestamp ts = 5;
  string venue = 6;
}
message TradeMs {
  string symbol = 1;
  double price = 2;
  int64 qty = 3;
  Side side = 4;
  int64 ts_ms = 5;
  string venue = 6;
}
`

// batchRows is the number of rows per batch in the benchmarks (and the
// number of distinct messages).
const batchRows = 10_000

// trades makes batchRows varied trade messages of type msg.
func trades(tb testing.TB, msg string) (*Decoder, protoreflect.MessageDescriptor, [][]byte) {
	d, md := newDecoder(tb, tradeProto, msg)
	r := rand.New(rand.NewPCG(7, 8))
	symbols := []string{"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "BRK.B", "JPM", "V"}
	venues := []string{"XNAS", "XNYS", "BATS", "IEXG", "ARCX"}
	f := md.Fields()
	out := make([][]byte, batchRows)
	for i := range out {
		m := dynamicpb.NewMessage(md)
		m.Set(f.ByName("symbol"), protoreflect.ValueOfString(symbols[r.IntN(len(symbols))]))
		m.Set(f.ByName("price"), protoreflect.ValueOfFloat64(10+r.Float64()*990))
		m.Set(f.ByName("qty"), protoreflect.ValueOfInt64(1+r.Int64N(100_000)))
		m.Set(f.ByName("side"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(1+r.IntN(2))))
		ns := 1_700_000_000_000_000_000 + int64(i)*1_000_003 + r.Int64N(1000)
		if fd := f.ByName("ts"); fd != nil {
			ts := m.NewField(fd).Message()
			ts.Set(ts.Descriptor().Fields().ByNumber(1), protoreflect.ValueOfInt64(ns/1e9))
			ts.Set(ts.Descriptor().Fields().ByNumber(2), protoreflect.ValueOfInt32(int32(ns%1e9)))
			m.Set(fd, protoreflect.ValueOfMessage(ts))
		} else {
			m.Set(f.ByName("ts_ms"), protoreflect.ValueOfInt64(ns/1e6))
		}
		m.Set(f.ByName("venue"), protoreflect.ValueOfString(venues[r.IntN(len(venues))]))
		b, err := proto.Marshal(m)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = b
	}
	return d, md, out
}

// BenchmarkTrade decodes trade messages into one reserved StructBuilder;
// one op is one record. Every batchRows records the batch is finished
// (NewArray) and the builder reserved again, with the timer stopped: the
// numbers are those of Append into a builder with room.
func BenchmarkTrade(b *testing.B) {
	for _, msg := range []string{"bench.Trade", "bench.TradeMs"} {
		d, md, recs := trades(b, msg)
		b.Run(msg[len("bench."):]+"/protodec", func(b *testing.B) {
			runBatches(b, d, recs, func(sb *array.StructBuilder, rec []byte) {
				if err := d.Append(sb, rec); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(msg[len("bench."):]+"/dynamicpb", func(b *testing.B) {
			runBatches(b, d, recs, func(sb *array.StructBuilder, rec []byte) {
				m := dynamicpb.NewMessage(md)
				if err := proto.Unmarshal(rec, m); err != nil {
					b.Fatal(err)
				}
				appendReflect(sb, m)
			})
		})
	}
}

func runBatches(b *testing.B, d *Decoder, recs [][]byte, appendOne func(*array.StructBuilder, []byte)) {
	// The goroutine keeps its thread, so that the thread's CPU clock
	// measures it alone: on a shared machine wall time also counts the
	// time spent waiting for a core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sb := array.NewBuilder(memory.NewGoAllocator(), d.Type()).(*array.StructBuilder)
	defer sb.Release()
	reserve := func() {
		reserveData(sb, batchRows)
		for i := 0; i < sb.NumField(); i++ {
			if s, ok := sb.FieldBuilder(i).(*array.StringBuilder); ok {
				s.ReserveData(batchRows * 8)
			}
		}
	}
	reserve()
	for _, rec := range recs[:100] { // warm the decoder's scratch
		appendOne(sb, rec)
	}
	var bytes int64
	for _, r := range recs {
		bytes += int64(len(r))
	}
	b.SetBytes(bytes / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	var cpu int64
	t0 := threadCPU()
	for i := 0; i < b.N; i++ {
		if sb.Len() == batchRows {
			cpu += threadCPU() - t0
			b.StopTimer()
			sb.NewArray().Release()
			reserve()
			b.StartTimer()
			t0 = threadCPU()
		}
		appendOne(sb, recs[i%len(recs)])
	}
	cpu += threadCPU() - t0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/(float64(cpu)/1e9), "cpu-records/s")
}

// threadCPU is the CPU time of the calling thread, in ns
// (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() int64 {
	var ts syscall.Timespec
	const clockThreadCPUTime = 3
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

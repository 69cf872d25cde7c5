// Package jsondec decodes JSON records into rows of an Arrow struct column.
package jsondec

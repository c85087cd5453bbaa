/**
 * The dashboard's figures shaped for display: conversion rates and the ECharts options of its
 * charts. Only the chart types and components used here are registered (`echarts/core`), which
 * keeps the bundle lean.
 */
import { use } from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'
import type { ComposeOption } from 'echarts/core'
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts'
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption } from 'echarts/components'
import type { DayFigures, RangeFigures } from '@/api/stats'

use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>

/** `part` of `whole` as a percentage with one decimal ("—" when nothing was placed). */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '—'
  return `${((part / whole) * 100).toFixed(1)}%`
}

export interface Conversion {
  placed: number
  paid: number
  closed: number
  paidRate: string
  closedRate: string
}

export function conversionOf(r: RangeFigures): Conversion {
  return {
    placed: r.placed_orders,
    paid: r.paid_orders,
    closed: r.closed_orders,
    paidRate: percent(r.paid_orders, r.placed_orders),
    closedRate: percent(r.closed_orders, r.placed_orders),
  }
}

/** `2026-11-26` → `11-26`: the axis shows month and day. */
function shortDate(date: string): string {
  return date.slice(5)
}

function twoAxes(days: DayFigures[], series: ChartOption['series']): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 48, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: days.map((d) => shortDate(d.date)) },
    yAxis: [
      { type: 'value', minInterval: 1 },
      { type: 'value', minInterval: 1 },
    ],
    series,
  } as ChartOption
}

/** Revenue (bars, left axis) with orders placed, paid and closed (lines, right axis). */
export function salesChart(days: DayFigures[], labels: { revenue: string; placed: string; paid: string; closed: string }): ChartOption {
  return twoAxes(days, [
    { name: labels.revenue, type: 'bar', data: days.map((d) => Number(d.revenue)) },
    { name: labels.placed, type: 'line', yAxisIndex: 1, data: days.map((d) => d.placed_orders) },
    { name: labels.paid, type: 'line', yAxisIndex: 1, data: days.map((d) => d.paid_orders) },
    { name: labels.closed, type: 'line', yAxisIndex: 1, data: days.map((d) => d.closed_orders) },
  ])
}

/** New users per day. */
export function usersChart(days: DayFigures[], label: string): ChartOption {
  return twoAxes(days, [{ name: label, type: 'bar', data: days.map((d) => d.new_users) }])
}

/** Answers (bars, left axis) and tokens (line, right axis) per day. */
export function usageChart(days: DayFigures[], labels: { answers: string; tokens: string }): ChartOption {
  return twoAxes(days, [
    { name: labels.answers, type: 'bar', data: days.map((d) => d.answers) },
    { name: labels.tokens, type: 'line', yAxisIndex: 1, data: days.map((d) => d.tokens) },
  ])
}

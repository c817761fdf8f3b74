/**
 * The page's own script (plain ES5-style JavaScript, run after plotly.js): draws every
 * `[data-plot]` div from the embedded figures and wires the generation sliders and the selects
 * that choose which traces a plot shows.
 */
export const CLIENT_SCRIPT = `(function () {
  'use strict';
  var figures = JSON.parse(document.getElementById('ouroboros-data').textContent).plots;
  // The share button uploads the chart to Plotly Cloud: the page never talks to another host. The
  // bar keeps four buttons (PNG, zoom, pan, reset), which fit the strip above each title.
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ['sendChartToCloud', 'select2d', 'lasso2d', 'zoomIn2d', 'zoomOut2d', 'autoScale2d', 'toggleSpikelines', 'hoverClosestCartesian', 'hoverCompareCartesian']
  };
  var divs = document.querySelectorAll('[data-plot]');
  for (var i = 0; i < divs.length; i++) draw(divs[i]);

  function draw(div) {
    var id = div.getAttribute('data-plot');
    var figure = figures[Number(id)];
    // The figure's height, held by its box: on a resize (and the redraw of a legend click after
    // one) plotly sizes a responsive plot to its box, which would otherwise shrink to its minimum.
    if (figure.layout.height) div.style.height = figure.layout.height + 'px';
    Plotly.newPlot(div, figure.data, figure.layout, config);
    if (figure.slider) wireSlider(div, id, figure.slider);
    if (figure.choices) wireChoices(div, id, figure.choices);
  }

  function wireChoices(div, id, choices) {
    // A select may drive several plots: its data-choice-for lists their ids.
    var selects = document.querySelectorAll('select[data-choice-for~="' + id + '"]');
    function update() {
      var chosen = [];
      for (var s = 0; s < selects.length; s++) chosen[Number(selects[s].getAttribute('data-control'))] = Number(selects[s].value);
      var visible = [];
      for (var t = 0; t < choices.keys.length; t++) {
        var key = choices.keys[t];
        var shown = true;
        for (var c = 0; c < key.length; c++) if (key[c] >= 0 && key[c] !== chosen[c]) shown = false;
        visible.push(shown);
      }
      var layout = {};
      for (var k = 0; k < choices.controls.length; k++) {
        var changes = choices.controls[k].relayout && choices.controls[k].relayout[chosen[k]];
        if (changes) for (var name in changes) layout[name] = changes[name];
      }
      Plotly.update(div, { visible: visible }, layout);
    }
    for (var i = 0; i < selects.length; i++) selects[i].addEventListener('change', update);
  }

  function wireSlider(div, id, slider) {
    var input = document.querySelector('input[data-slider-for="' + id + '"]');
    var caption = document.querySelector('output[data-slider-for="' + id + '"]');
    // One generation has nothing to slide over.
    if (!input) return;
    input.addEventListener('input', function () {
      var shown = Number(input.value);
      var visible = [];
      for (var t = 0; t < div.data.length; t++) {
        var frame = t - slider.first;
        visible.push(frame < 0 || frame >= slider.generations.length || frame === shown);
      }
      Plotly.restyle(div, { visible: visible });
      caption.textContent = slider.captions[shown];
    });
  }
})();
`

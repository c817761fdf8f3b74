/**
 * The page's own script (plain ES5-style JavaScript, run after plotly.js): draws every
 * `[data-plot]` div from the embedded figures and wires the generation sliders.
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
    Plotly.newPlot(div, figure.data, figure.layout, config);
    if (figure.slider) wireSlider(div, id, figure.slider);
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
